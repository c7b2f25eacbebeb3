import type { InferRequestType } from 'hono/client';
import { api, data } from '../api';
import { formatDate, t } from '../i18n';
import { setQuery, useLocation } from '../router';
import { PagedTable, usePager } from '../paged-table';
import { useLoad, useTitle } from '../ui';
import { ExportAudit } from './audit-export';

type Action = NonNullable<InferRequestType<typeof api.v1.audit.$get>['query']['action']>;

// The actions the API accepts as a filter; `satisfies` fails the type check if the API stops accepting one.
const ACTIONS = [
  'auth.login',
  'auth.login_failed',
  'auth.logout',
  'auth.refresh_reuse',
  'role.assign',
  'role.create',
  'role.delete',
  'role.unassign',
  'role.update',
  'user.create',
  'user.delete',
  'user.password_change',
  'user.register',
  'user.update',
] as const satisfies readonly Action[];

export function Audit() {
  useTitle(t('nav.audit'));
  const { query } = useLocation();
  const action = ACTIONS.find((a) => a === query.get('action'));
  const actorId = /^[0-9]{1,10}$/.test(query.get('actorId') ?? '') ? query.get('actorId')! : undefined;
  const pager = usePager();
  const cursor = pager.cursor;
  const page = useLoad(() => data(api.v1.audit.$get({ query: { action, actorId, cursor, limit: '50' } })), [action, actorId, cursor]);
  const filter = (changes: Record<string, string>) => {
    pager.restart();
    setQuery(changes);
  };
  return (
    <section>
      <div class="page-head">
        <h1>{t('nav.audit')}</h1>
        <ExportAudit action={action} />
      </div>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          {t('audit.action')}
          <select value={action ?? ''} onChange={(e) => filter({ action: (e.currentTarget as HTMLSelectElement).value })}>
            <option value="">{t('common.all')}</option>
            {ACTIONS.map((a) => (
              <option value={a}>{a}</option>
            ))}
          </select>
        </label>
        <label>
          {t('audit.actor')}
          <input inputMode="numeric" pattern="[0-9]*" value={actorId ?? ''} onChange={(e) => filter({ actorId: (e.currentTarget as HTMLInputElement).value })} />
        </label>
      </form>
      <PagedTable
        page={page}
        empty={t('audit.none')}
        columns={[t('audit.at'), t('audit.action'), t('audit.actor'), t('audit.target'), t('audit.ip'), t('audit.details')]}
        pager={pager}
        row={(e) => (
          <tr>
            <td>{formatDate(e.at)}</td>
            <td>
              <code>{e.action}</code>
            </td>
            <td>{e.actorId ?? '—'}</td>
            <td>
              {e.targetType} {e.targetId}
            </td>
            <td>{e.ip ?? '—'}</td>
            <td>
              {Object.keys(e.details ?? {}).length > 0 ? (
                <details>
                  <summary>{t('audit.show')}</summary>
                  <pre>{JSON.stringify(e.details, null, 2)}</pre>
                </details>
              ) : (
                '—'
              )}
            </td>
          </tr>
        )}
      />
    </section>
  );
}
