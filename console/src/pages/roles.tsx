import { api, data } from '../api';
import { useAuth } from '../auth';
import { formatNumber, t } from '../i18n';
import { navigate } from '../router';
import { CreateDialog } from '../create-dialog';
import { Empty, ErrorBox, Field, Loading, useLoad, useTitle } from '../ui';
import { checkedPermissions, PermissionGrid, usePermissionCatalog } from './permissions';

export const BUILT_IN_ROLES = ['admin', 'analyst', 'viewer'];

function CreateRole() {
  const catalog = usePermissionCatalog();
  const create = async (values: Record<string, string>, form: HTMLFormElement) => {
    const permissions = checkedPermissions(form, catalog.value?.data ?? []);
    const role = await data(api.v1.roles.$post({ json: { name: values.name ?? '', description: values.description || undefined, permissions } }));
    navigate(`/roles/${role.name}`);
  };
  return (
    <CreateDialog
      id="create-role"
      title={t('roles.create')}
      create={create}
      fields={(error) => (
        <>
          <Field label={t('field.roleName')} name="name" required pattern="[a-z][a-z0-9_\-]{1,49}" hint={t('roles.nameHint')} error={error} />
          <Field label={t('field.description')} name="description" maxLength={500} error={error} />
          <fieldset>
            <legend>{t('roles.permissions')}</legend>
            <ErrorBox error={catalog.error} />
            {catalog.value && <PermissionGrid catalog={catalog.value.data} selected={[]} />}
          </fieldset>
        </>
      )}
    />
  );
}

export function Roles() {
  useTitle(t('nav.roles'));
  const auth = useAuth()!;
  const roles = useLoad(() => data(api.v1.roles.$get()), []);
  return (
    <section>
      <div class="page-head">
        <h1>{t('nav.roles')}</h1>
        {auth.can('roles:write') && <CreateRole />}
      </div>
      <ErrorBox error={roles.error} />
      {roles.loading && !roles.value && <Loading />}
      {roles.value?.data.length === 0 && <Empty />}
      {roles.value && roles.value.data.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('field.roleName')}</th>
                <th scope="col">{t('field.description')}</th>
                <th scope="col">{t('roles.permissions')}</th>
                <th scope="col" class="num">
                  {t('roles.holders')}
                </th>
              </tr>
            </thead>
            <tbody>
              {roles.value.data.map((r) => (
                <tr>
                  <td>
                    <a href={`/console/roles/${encodeURIComponent(r.name)}`}>{r.name}</a>
                    {BUILT_IN_ROLES.includes(r.name) && <span class="tag">{t('roles.builtIn')}</span>}
                  </td>
                  <td>{r.description ?? '—'}</td>
                  <td>{r.permissions.length > 0 ? r.permissions.map((p) => <code class="perm">{p}</code>) : '—'}</td>
                  <td class="num">{formatNumber(r.userCount)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
