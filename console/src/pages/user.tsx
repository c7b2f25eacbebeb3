import { useState } from 'preact/hooks';
import { api, data, done } from '../api';
import { useAuth } from '../auth';
import { formatDate, t } from '../i18n';
import { navigate } from '../router';
import { UserApiKeys } from './api-keys';
import { Confirm, ErrorBox, Field, Loading, Notice, submit, useAction, useLoad, useTitle } from '../ui';

export function UserPage({ id }: { id: string }) {
  const auth = useAuth()!;
  const param = { id };
  const user = useLoad(() => data(api.v1.users[':id'].$get({ param })), [id]);
  const roles = useLoad(() => (auth.can('roles:read') ? data(api.v1.roles.$get()) : Promise.resolve({ data: [] })), []);
  const [notice, setNotice] = useState('');
  useTitle(user.value?.name ?? t('nav.users'));
  const act = (message: string, call: () => Promise<unknown>) =>
    useAction(async () => {
      setNotice('');
      await call();
      setNotice(message);
      user.reload();
    });
  const save = useAction(async (values: Record<string, string>) => {
    setNotice('');
    await data(api.v1.users[':id'].$patch({ param, json: { name: values.name, email: values.email } }));
    setNotice(t('common.saved'));
    user.reload();
  });
  const saveRoles = useAction(async (form: HTMLFormElement) => {
    const chosen = (roles.value?.data ?? []).map((r) => r.name).filter((r) => (form.elements.namedItem(`role-${r}`) as HTMLInputElement).checked);
    await data(api.v1.users[':id'].roles.$put({ param, json: { roles: chosen } }));
    setNotice(t('common.saved'));
    user.reload();
  });
  const toggle = act(t('common.saved'), () => data(api.v1.users[':id'].$patch({ param, json: { disabled: !user.value!.disabled } })));
  const revoke = act(t('user.sessionsRevoked'), () => done(api.v1.users[':id'].sessions.$delete({ param })));
  const resend = act(t('user.inviteSent'), () => done(api.v1.users[':id'].invitation.$post({ param })));
  const unlock = act(t('user.unlocked'), () => done(api.v1.users[':id'].unlock.$post({ param })));
  const resetMfa = act(t('user.mfaReset'), () => done(api.v1.users[':id'].mfa.$delete({ param })));
  const remove = useAction(async () => {
    await done(api.v1.users[':id'].$delete({ param }));
    navigate('/users');
  });
  const problems = [toggle.error, revoke.error, resend.error, unlock.error, resetMfa.error, remove.error].filter(Boolean);
  if (user.loading && !user.value) return <Loading />;
  if (!user.value) return <ErrorBox error={user.error} />;
  const u = user.value;
  const write = auth.can('users:write');
  return (
    <section>
      <p>
        <a href="/console/users">← {t('nav.users')}</a>
      </p>
      <div class="page-head">
        <h1>{u.name}</h1>
        <div>
          {u.disabled ? <span class="tag off">{t('users.disabled')}</span> : <span class="tag on">{t('users.enabled')}</span>}
          {u.invited && <span class="tag">{t('users.invited')}</span>}
          {!u.invited && !u.emailVerified && <span class="tag">{t('users.unverified')}</span>}
          {u.mfaEnabled && <span class="tag on">{t('users.mfa')}</span>}
        </div>
      </div>
      {notice && <Notice>{notice}</Notice>}
      {problems.map((p) => (
        <ErrorBox error={p} />
      ))}
      <dl class="facts">
        <dt>{t('field.email')}</dt>
        <dd>{u.email}</dd>
        <dt>{t('users.created')}</dt>
        <dd>{formatDate(u.createdAt)}</dd>
        <dt>{t('users.lastLogin')}</dt>
        <dd>{formatDate(u.lastLoginAt)}</dd>
      </dl>
      <div class="panels">
        {write && (
          <form class="panel stack" onSubmit={submit((v) => void save.run(v))} key={`${u.name}|${u.email}`}>
            <h2>{t('user.details')}</h2>
            <ErrorBox error={save.error} />
            <Field label={t('field.name')} name="name" value={u.name} required maxLength={100} error={save.error} />
            <Field label={t('field.email')} name="email" type="email" value={u.email} required error={save.error} />
            <button class="primary" disabled={save.busy}>
              {t('common.save')}
            </button>
          </form>
        )}
        <form class="panel stack" onSubmit={(e) => (e.preventDefault(), void saveRoles.run(e.currentTarget as HTMLFormElement))} key={u.roles.join()}>
          <h2>{t('users.roles')}</h2>
          <ErrorBox error={saveRoles.error} />
          {auth.can('roles:write') ? (
            <>
              <fieldset>
                <legend class="visually-hidden">{t('users.roles')}</legend>
                {(roles.value?.data ?? []).map((r) => (
                  <label class="check">
                    <input type="checkbox" name={`role-${r.name}`} checked={u.roles.includes(r.name)} /> {r.name}
                  </label>
                ))}
              </fieldset>
              <button class="primary" disabled={saveRoles.busy}>
                {t('user.saveRoles')}
              </button>
            </>
          ) : (
            <p>{u.roles.join(', ') || '—'}</p>
          )}
        </form>
        {write && (
          <div class="panel stack">
            <h2>{t('user.actions')}</h2>
            <Confirm
              label={u.disabled ? t('user.enable') : t('user.disable')}
              question={t(u.disabled ? 'user.enableQ' : 'user.disableQ', { name: u.name })}
              onConfirm={() => void toggle.run()}
              disabled={toggle.busy}
            />
            {u.invited && <Confirm label={t('user.resendInvite')} question={t('user.resendQ', { name: u.name })} onConfirm={() => void resend.run()} />}
            <Confirm label={t('user.unlock')} question={t('user.unlockQ', { name: u.name })} onConfirm={() => void unlock.run()} />
            <Confirm label={t('user.revokeSessions')} question={t('user.revokeQ', { name: u.name })} onConfirm={() => void revoke.run()} />
            {u.mfaEnabled && <Confirm label={t('user.resetMfa')} question={t('user.resetMfaQ', { name: u.name })} onConfirm={() => void resetMfa.run()} />}
            <Confirm label={t('user.delete')} question={t('user.deleteQ', { name: u.name })} onConfirm={() => void remove.run()} danger />
          </div>
        )}
        {write && <UserApiKeys id={id} />}
      </div>
    </section>
  );
}
