import { useState } from 'preact/hooks';
import { api, data } from '../api';
import { loadMe } from '../auth';
import { t } from '../i18n';
import { problemOf } from '../problem';
import { navigate, useLocation } from '../router';
import { session } from '../session';
import { ErrorBox, Field, submit, useAction, useTitle } from '../ui';
import { PasskeySignInButton } from './passkeys';
import { SsoButtons } from './sso';

/** Only a path inside the console may be the place to go back to after signing in. */
export const safeNext = (next: string | null) => (next && /^\/console\/[^/\\]/.test(next) && !next.includes('//') ? next : '/console/');

/** Email and password; when the account has a second factor (202, contract §10), a code or a recovery code. */
export function SignIn() {
  useTitle(t('signIn.title'));
  const { query } = useLocation();
  const [challenge, setChallenge] = useState<string | null>(null);
  const [recovery, setRecovery] = useState(false);
  const finish = async (pair: { accessToken: string; refreshToken: string }) => {
    session.store(pair);
    await loadMe();
    navigate(safeNext(query.get('next')), { replace: true });
  };
  const password = useAction(async (values: Record<string, string>) => {
    const res = await api.v1.auth.login.$post({ json: { email: values.email ?? '', password: values.password ?? '' } });
    if (res.status === 202) return setChallenge((await res.json()).mfaToken);
    if (res.status !== 200) throw await problemOf(res as unknown as Response);
    await finish(await res.json());
  });
  const second = useAction(async (values: Record<string, string>) => {
    const mfaToken = challenge ?? '';
    const json = recovery ? { mfaToken, recoveryCode: values.recoveryCode ?? '' } : { mfaToken, code: values.code ?? '' };
    await finish(await data(api.v1.auth.mfa.$post({ json })));
  });
  return (
    <main class="auth-page" id="main">
      <h1>{t('signIn.title')}</h1>
      {challenge ? (
        <form onSubmit={submit((v) => void second.run(v))} class="stack" key={String(recovery)}>
          <p>{recovery ? t('signIn.recoveryIntro') : t('signIn.codeIntro')}</p>
          <ErrorBox error={second.error} />
          {recovery ? (
            <Field label={t('mfa.recoveryCode')} name="recoveryCode" autocomplete="off" required error={second.error} />
          ) : (
            <Field label={t('mfa.code')} name="code" inputMode="numeric" autocomplete="one-time-code" required pattern="[0-9]{6}" error={second.error} />
          )}
          <button class="primary" disabled={second.busy}>
            {t('signIn.verify')}
          </button>
          <button type="button" class="link" onClick={() => (second.clear(), setRecovery(!recovery))}>
            {recovery ? t('signIn.useCode') : t('signIn.useRecovery')}
          </button>
        </form>
      ) : (
        <form onSubmit={submit((v) => void password.run(v))} class="stack">
          <ErrorBox error={password.error} />
          <Field label={t('field.email')} name="email" type="email" autocomplete="username" required error={password.error} />
          <Field label={t('field.password')} name="password" type="password" autocomplete="current-password" required error={password.error} />
          <button class="primary" disabled={password.busy}>
            {t('signIn.submit')}
          </button>
          <a href="/console/forgot-password">{t('signIn.forgot')}</a>
        </form>
      )}
      {!challenge && <PasskeySignInButton onSignedIn={finish} />}
      {!challenge && <SsoButtons next={query.get('next')} />}
    </main>
  );
}
