import { useState } from 'preact/hooks';
import { api, data, done } from '../api';
import { useAuth } from '../auth';
import { t } from '../i18n';
import { navigate } from '../router';
import { Confirm, Empty, ErrorBox, Field, Loading, Notice, submit, useAction, useLoad, useTitle } from '../ui';
import { checkedPermissions, PermissionGrid, usePermissionCatalog } from './permissions';
import { BUILT_IN_ROLES } from './roles';

export function RolePage({ name }: { name: string }) {
  useTitle(name);
  const auth = useAuth()!;
  const param = { role: name };
  const role = useLoad(() => data(api.v1.roles[':role'].$get({ param })), [name]);
  const holders = useLoad(() => data(api.v1.roles[':role'].users.$get({ param, query: { limit: '100' } })), [name]);
  const [notice, setNotice] = useState('');
  const save = useAction(async (values: Record<string, string>) => {
    setNotice('');
    await data(api.v1.roles[':role'].$patch({ param, json: { description: values.description ?? '' } }));
    setNotice(t('common.saved'));
    role.reload();
  });
  const catalog = usePermissionCatalog();
  const savePermissions = useAction(async (form: HTMLFormElement) => {
    setNotice('');
    const permissions = checkedPermissions(form, catalog.value?.data ?? []);
    await data(api.v1.roles[':role'].$patch({ param, json: { permissions } }));
    setNotice(t('common.saved'));
    role.reload();
  });
  const remove = useAction(async () => {
    await done(api.v1.roles[':role'].$delete({ param }));
    navigate('/roles');
  });
  if (role.loading && !role.value) return <Loading />;
  if (!role.value) return <ErrorBox error={role.error} />;
  const r = role.value;
  const builtIn = BUILT_IN_ROLES.includes(r.name);
  const write = auth.can('roles:write');
  return (
    <section>
      <p>
        <a href="/console/roles">← {t('nav.roles')}</a>
      </p>
      <div class="page-head">
        <h1>{r.name}</h1>
        {builtIn && <span class="tag">{t('roles.builtIn')}</span>}
      </div>
      {notice && <Notice>{notice}</Notice>}
      <ErrorBox error={remove.error} />
      <div class="panels">
        <form class="panel stack" onSubmit={submit((v) => void save.run(v))} key={r.description ?? ''}>
          <h2>{t('field.description')}</h2>
          <ErrorBox error={save.error} />
          {write ? (
            <>
              <Field label={t('field.description')} name="description" value={r.description ?? ''} maxLength={500} error={save.error} />
              <button class="primary" disabled={save.busy}>
                {t('common.save')}
              </button>
            </>
          ) : (
            <p>{r.description ?? '—'}</p>
          )}
        </form>
        <form class="panel stack" onSubmit={(e) => (e.preventDefault(), void savePermissions.run(e.currentTarget as HTMLFormElement))} key={r.permissions.join()}>
          <h2>{t('roles.permissions')}</h2>
          <ErrorBox error={savePermissions.error ?? catalog.error} />
          {builtIn && <p class="muted">{t('roles.builtInFixed')}</p>}
          {catalog.value && <PermissionGrid catalog={catalog.value.data} selected={r.permissions} disabled={!write || builtIn} />}
          {write && !builtIn && (
            <button class="primary" disabled={savePermissions.busy}>
              {t('roles.savePermissions')}
            </button>
          )}
        </form>
        <div class="panel">
          <h2>{t('roles.holdersOf', { n: r.userCount })}</h2>
          <ErrorBox error={holders.error} />
          {holders.value?.data.length === 0 && <Empty>{t('roles.noHolders')}</Empty>}
          <ul>
            {holders.value?.data.map((u) => (
              <li>{auth.can('users:read') ? <a href={`/console/users/${u.id}`}>{u.name}</a> : u.name} {'email' in u && <span class="muted">{u.email}</span>}</li>
            ))}
          </ul>
        </div>
        {write && !builtIn && (
          <div class="panel stack">
            <h2>{t('user.actions')}</h2>
            <Confirm label={t('roles.delete')} question={t('roles.deleteQ', { name: r.name })} onConfirm={() => void remove.run()} danger />
          </div>
        )}
      </div>
    </section>
  );
}
