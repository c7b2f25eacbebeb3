import { useState } from 'preact/hooks';
import { api, done } from '../api';
import { t } from '../i18n';
import { ErrorBox, Field, Notice, submit, useAction, useTitle } from '../ui';

/** Asks for a reset link. The API answers the same whether or not the account exists, and so does this page. */
export function ForgotPassword() {
  useTitle(t('forgot.title'));
  const [sent, setSent] = useState(false);
  const action = useAction(async (values: Record<string, string>) => {
    await done(api.v1.auth.password.forgot.$post({ json: { email: values.email ?? '' } }));
    setSent(true);
  });
  return (
    <main class="auth-page" id="main">
      <h1>{t('forgot.title')}</h1>
      {sent ? (
        <Notice>{t('forgot.sent')}</Notice>
      ) : (
        <form class="stack" onSubmit={submit((v) => void action.run(v))}>
          <p>{t('forgot.intro')}</p>
          <ErrorBox error={action.error} />
          <Field label={t('field.email')} name="email" type="email" autocomplete="username" required error={action.error} />
          <button class="primary" disabled={action.busy}>
            {t('forgot.submit')}
          </button>
        </form>
      )}
      <p>
        <a href="/console/sign-in">{t('signIn.title')}</a>
      </p>
    </main>
  );
}
