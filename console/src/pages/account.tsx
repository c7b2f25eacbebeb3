import { useState } from 'preact/hooks';
import { api, data, done } from '../api';
import { loadMe, useAuth } from '../auth';
import { formatDate, t } from '../i18n';
import { MyApiKeys } from './api-keys';
import { SecondFactor } from './mfa';
import { Passkeys } from './passkeys';
import { Confirm, ErrorBox, Field, Loading, Notice, submit, useAction, useLoad, useTitle } from '../ui';

function Sessions() {
  const sessions = useLoad(() => data(api.v1.me.sessions.$get()), []);
  const revoke = useAction(async (id: string) => {
    await done(api.v1.me.sessions[':id'].$delete({ param: { id } }));
    sessions.reload();
  });
  return (
    <div class="panel">
      <h2>{t('account.sessions')}</h2>
      <ErrorBox error={sessions.error ?? revoke.error} />
      {sessions.loading && !sessions.value && <Loading />}
      <ul class="sessions">
        {sessions.value?.data.map((s) => (
          <li>
            <div>
              <strong>{s.userAgent ?? t('account.unknownDevice')}</strong> {s.current && <span class="tag on">{t('account.thisSession')}</span>}
              <div class="muted">
                {t('account.sessionSeen', { ip: s.ip ?? '—', at: formatDate(s.lastUsedAt) })}
              </div>
            </div>
            {!s.current && <Confirm label={t('account.revoke')} question={t('account.revokeQ')} onConfirm={() => void revoke.run(s.id)} />}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function Account() {
  useTitle(t('nav.account'));
  const { me } = useAuth()!;
  const [notice, setNotice] = useState('');
  const name = useAction(async (values: Record<string, string>) => {
    await data(api.v1.me.$patch({ json: { name: values.name ?? '' } }));
    await loadMe();
    setNotice(t('common.saved'));
  });
  const password = useAction(async (values: Record<string, string>, form: HTMLFormElement) => {
    await done(api.v1.me.password.$post({ json: { currentPassword: values.currentPassword ?? '', newPassword: values.newPassword ?? '' } }));
    form.reset();
    setNotice(t('account.passwordChanged'));
  });
  const email = useAction(async (values: Record<string, string>, form: HTMLFormElement) => {
    await done(api.v1.me.email.$post({ json: { newEmail: values.newEmail ?? '', currentPassword: values.emailPassword ?? '' } }));
    form.reset();
    setNotice(t('account.emailSent'));
  });
  const verification = useAction(async () => {
    await done(api.v1.me.email.verification.$post());
    setNotice(t('account.verificationSent'));
  });
  return (
    <section>
      <div class="page-head">
        <h1>{t('nav.account')}</h1>
      </div>
      {notice && <Notice>{notice}</Notice>}
      {!me.emailVerified && (
        <div class="alert ok row">
          {t('account.unverified')}
          <button type="button" disabled={verification.busy} onClick={() => void verification.run()}>
            {t('account.resendVerification')}
          </button>
        </div>
      )}
      <ErrorBox error={verification.error} />
      <dl class="facts">
        <dt>{t('field.email')}</dt>
        <dd>{me.email}</dd>
        <dt>{t('users.roles')}</dt>
        <dd>{me.roles.join(', ') || '—'}</dd>
      </dl>
      <div class="panels">
        <form class="panel stack" onSubmit={submit((v) => void name.run(v))}>
          <h2>{t('account.name')}</h2>
          <ErrorBox error={name.error} />
          <Field label={t('field.name')} name="name" value={me.name} required maxLength={100} error={name.error} />
          <button class="primary" disabled={name.busy}>
            {t('common.save')}
          </button>
        </form>
        <form class="panel stack" onSubmit={submit((v, f) => void password.run(v, f))}>
          <h2>{t('account.password')}</h2>
          <ErrorBox error={password.error} />
          <Field label={t('field.currentPassword')} name="currentPassword" type="password" autocomplete="current-password" required error={password.error} />
          <Field label={t('field.newPassword')} name="newPassword" type="password" autocomplete="new-password" required minLength={12} hint={t('field.passwordHint')} error={password.error} />
          <button class="primary" disabled={password.busy}>
            {t('account.changePassword')}
          </button>
        </form>
        <form class="panel stack" onSubmit={submit((v, f) => void email.run(v, f))}>
          <h2>{t('account.email')}</h2>
          <ErrorBox error={email.error} />
          <Field label={t('account.newEmail')} name="newEmail" type="email" autocomplete="email" required error={email.error} />
          <Field id="f-emailPassword" label={t('field.currentPassword')} name="emailPassword" type="password" autocomplete="current-password" required error={email.error} />
          <button class="primary" disabled={email.busy}>
            {t('account.changeEmail')}
          </button>
        </form>
        <SecondFactor />
        <Passkeys />
        <MyApiKeys />
        <Sessions />
      </div>
    </section>
  );
}
