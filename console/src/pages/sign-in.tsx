import { api } from '../api';
import { loadMe } from '../auth';
import { t } from '../i18n';
import { problemOf } from '../problem';
import { navigate, useLocation } from '../router';
import { session } from '../session';
import { ErrorBox, Field, submit, useAction, useTitle } from '../ui';

/** Only a path inside the console may be the place to go back to after signing in. */
export const safeNext = (next: string | null) => (next && /^\/console\/[^/\\]/.test(next) && !next.includes('//') ? next : '/console/');

export function SignIn() {
  useTitle(t('signIn.title'));
  const { query } = useLocation();
  const action = useAction(async (values: Record<string, string>) => {
    const res = await api.v1.auth.login.$post({ json: { email: values.email ?? '', password: values.password ?? '' } });
    if (res.status !== 200) throw await problemOf(res as unknown as Response);
    session.store(await res.json());
    await loadMe();
    navigate(safeNext(query.get('next')), { replace: true });
  });
  return (
    <main class="auth-page" id="main">
      <h1>{t('signIn.title')}</h1>
      <form onSubmit={submit((v) => void action.run(v))} class="stack">
        <ErrorBox error={action.error} />
        <Field label={t('field.email')} name="email" type="email" autocomplete="username" required error={action.error} />
        <Field label={t('field.password')} name="password" type="password" autocomplete="current-password" required error={action.error} />
        <button class="primary" disabled={action.busy}>
          {t('signIn.submit')}
        </button>
        <a href="/console/forgot-password">{t('signIn.forgot')}</a>
      </form>
    </main>
  );
}
