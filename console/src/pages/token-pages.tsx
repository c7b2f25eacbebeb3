import { useState } from 'preact/hooks';
import { api, data, done } from '../api';
import { loadMe } from '../auth';
import { t } from '../i18n';
import { navigate, useLocation } from '../router';
import { session } from '../session';
import { ErrorBox, Field, Notice, submit, useAction, useTitle } from '../ui';

/** The ?token= of an email link (contract §9); each page spends it with one POST. */
const useToken = () => useLocation().query.get('token') ?? '';

function Missing() {
  return <p class="alert error">{t('token.missing')}</p>;
}

/** From an invitation email: choose a password (and the name to show), then the console opens signed in. */
export function AcceptInvitation() {
  useTitle(t('token.inviteTitle'));
  const token = useToken();
  const action = useAction(async (values: Record<string, string>) => {
    const pair = await data(
      api.v1.auth.invitation.accept.$post({ json: { token, password: values.password ?? '', name: values.name || undefined } }),
    );
    session.store(pair);
    await loadMe();
    navigate('/', { replace: true });
  });
  return (
    <main class="auth-page" id="main">
      <h1>{t('token.inviteTitle')}</h1>
      {!token ? (
        <Missing />
      ) : (
        <form class="stack" onSubmit={submit((v) => void action.run(v))}>
          <p>{t('token.inviteIntro')}</p>
          <ErrorBox error={action.error} />
          <Field label={t('field.name')} name="name" maxLength={100} autocomplete="name" hint={t('token.nameHint')} error={action.error} />
          <Field label={t('field.newPassword')} name="password" type="password" autocomplete="new-password" required minLength={12} hint={t('field.passwordHint')} error={action.error} />
          <button class="primary" disabled={action.busy}>
            {t('token.inviteSubmit')}
          </button>
        </form>
      )}
    </main>
  );
}

/** From a password-reset email: a new password; every session of the account ends, so sign in again after. */
export function ResetPassword() {
  useTitle(t('token.resetTitle'));
  const token = useToken();
  const [finished, setFinished] = useState(false);
  const action = useAction(async (values: Record<string, string>) => {
    await done(api.v1.auth.password.reset.$post({ json: { token, newPassword: values.newPassword ?? '' } }));
    setFinished(true);
  });
  return (
    <main class="auth-page" id="main">
      <h1>{t('token.resetTitle')}</h1>
      {!token && <Missing />}
      {finished && (
        <>
          <Notice>{t('token.resetDone')}</Notice>
          <a href="/console/sign-in">{t('signIn.title')}</a>
        </>
      )}
      {token && !finished && (
        <form class="stack" onSubmit={submit((v) => void action.run(v))}>
          <ErrorBox error={action.error} />
          <Field label={t('field.newPassword')} name="newPassword" type="password" autocomplete="new-password" required minLength={12} hint={t('field.passwordHint')} error={action.error} />
          <button class="primary" disabled={action.busy}>
            {t('token.resetSubmit')}
          </button>
        </form>
      )}
    </main>
  );
}

/**
 * Verify-email and confirm-email-change links: one button spends the token. Not on page load: mail scanners that
 * open links (and run their scripts) must not use up a person's link.
 */
function SpendWithButton({ title, spend, success, label }: { title: string; spend: (token: string) => Promise<void>; success: string; label: string }) {
  useTitle(title);
  const token = useToken();
  const [finished, setFinished] = useState(false);
  const action = useAction(async () => {
    await spend(token);
    setFinished(true);
  });
  return (
    <main class="auth-page" id="main">
      <h1>{title}</h1>
      {!token && <Missing />}
      {finished && <Notice>{success}</Notice>}
      <ErrorBox error={action.error} />
      {token && !finished && (
        <button type="button" class="primary" disabled={action.busy} onClick={() => void action.run()}>
          {label}
        </button>
      )}
      <p>
        <a href="/console/">{t('token.toConsole')}</a>
      </p>
    </main>
  );
}

export const VerifyEmail = () => (
  <SpendWithButton title={t('token.verifyTitle')} label={t('token.verifySubmit')} success={t('token.verifyDone')} spend={(token) => done(api.v1.auth.email.verify.$post({ json: { token } }))} />
);

export const ConfirmEmail = () => (
  <SpendWithButton
    title={t('token.confirmTitle')}
    label={t('token.confirmSubmit')}
    success={t('token.confirmDone')}
    spend={async (token) => {
      await done(api.v1.auth.email.confirm.$post({ json: { token } }));
      // A signed-in tab shows the new address at once.
      if (session.access()) await loadMe().catch(() => {});
    }}
  />
);
