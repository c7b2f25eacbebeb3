import { api, data } from '../api';
import { useAuth } from '../auth';
import { formatDate, t } from '../i18n';
import { setQuery, useLocation } from '../router';
import { PagedTable, usePager } from '../paged-table';
import { useLoad, useTitle } from '../ui';
import { CreateUser } from './user-create';
import { ExportUsers } from './users-export';

const SORTS = ['-createdAt', 'createdAt', 'name', '-name', 'email', '-email'] as const;
type Sort = (typeof SORTS)[number];

export function Users() {
  useTitle(t('nav.users'));
  const auth = useAuth()!;
  const { query } = useLocation();
  const q = query.get('q') ?? '';
  const role = query.get('role') ?? '';
  const disabled = query.get('disabled') ?? '';
  const sort: Sort = SORTS.find((s) => s === query.get('sort')) ?? '-createdAt';
  const pager = usePager();
  const cursor = pager.cursor;
  const filters = {
    q: q || undefined,
    role: role || undefined,
    disabled: disabled === 'true' || disabled === 'false' ? (disabled as 'true' | 'false') : undefined,
  };
  const page = useLoad(() => data(api.v1.users.$get({ query: { ...filters, sort, cursor, limit: '20' } })), [q, role, disabled, sort, cursor]);
  const roles = useLoad(() => (auth.can('roles:read') ? data(api.v1.roles.$get()) : Promise.resolve({ data: [] })), []);
  const filter = (changes: Record<string, string>) => {
    pager.restart();
    setQuery(changes);
  };
  return (
    <section>
      <div class="page-head">
        <h1>{t('nav.users')}</h1>
        <div class="row">
          <ExportUsers filters={filters} />
          {auth.can('users:write') && <CreateUser roles={roles.value?.data.map((r) => r.name) ?? []} />}
        </div>
      </div>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          {t('users.search')}
          <input type="search" value={q} onChange={(e) => filter({ q: (e.currentTarget as HTMLInputElement).value })} />
        </label>
        <label>
          {t('users.role')}
          <select value={role} onChange={(e) => filter({ role: (e.currentTarget as HTMLSelectElement).value })}>
            <option value="">{t('common.all')}</option>
            {roles.value?.data.map((r) => (
              <option value={r.name}>{r.name}</option>
            ))}
          </select>
        </label>
        <label>
          {t('users.status')}
          <select value={disabled} onChange={(e) => filter({ disabled: (e.currentTarget as HTMLSelectElement).value })}>
            <option value="">{t('common.all')}</option>
            <option value="false">{t('users.enabled')}</option>
            <option value="true">{t('users.disabled')}</option>
          </select>
        </label>
        <label>
          {t('users.sort')}
          <select value={sort} onChange={(e) => filter({ sort: (e.currentTarget as HTMLSelectElement).value })}>
            {SORTS.map((s) => (
              <option value={s}>{t(`sort.${s}`)}</option>
            ))}
          </select>
        </label>
      </form>
      <PagedTable
        page={page}
        empty={t('users.none')}
        columns={[t('field.name'), t('field.email'), t('users.roles'), t('users.status'), t('users.created'), t('users.lastLogin')]}
        pager={pager}
        row={(u) => (
          <tr>
            <td>
              <a href={`/console/users/${u.id}`}>{u.name}</a>
            </td>
            <td>{u.email}</td>
            <td>{u.roles.join(', ')}</td>
            <td>
              {u.disabled ? <span class="tag off">{t('users.disabled')}</span> : <span class="tag on">{t('users.enabled')}</span>}
              {u.invited && <span class="tag">{t('users.invited')}</span>}
            </td>
            <td>{formatDate(u.createdAt)}</td>
            <td>{formatDate(u.lastLoginAt)}</td>
          </tr>
        )}
      />
    </section>
  );
}
