import type { InferRequestType } from 'hono/client';
import { useState } from 'preact/hooks';
import { api, data } from '../api';
import { formatDate, t } from '../i18n';
import { setQuery, useLocation } from '../router';
import { Empty, ErrorBox, Loading, useLoad, useTitle } from '../ui';
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
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const page = useLoad(() => data(api.v1.audit.$get({ query: { action, actorId, cursor, limit: '50' } })), [action, actorId, cursor]);
  const filter = (changes: Record<string, string>) => {
    setCursors([]);
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
      <ErrorBox error={page.error} />
      {page.loading && !page.value && <Loading />}
      {page.value?.data.length === 0 && <Empty>{t('audit.none')}</Empty>}
      {page.value && page.value.data.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('audit.at')}</th>
                <th scope="col">{t('audit.action')}</th>
                <th scope="col">{t('audit.actor')}</th>
                <th scope="col">{t('audit.target')}</th>
                <th scope="col">{t('audit.ip')}</th>
                <th scope="col">{t('audit.details')}</th>
              </tr>
            </thead>
            <tbody>
              {page.value.data.map((e) => (
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
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label={t('common.pages')}>
        <button type="button" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
          {t('common.previous')}
        </button>
        <button type="button" disabled={!page.value?.nextCursor} onClick={() => setCursors([...cursors, page.value!.nextCursor!])}>
          {t('common.next')}
        </button>
      </nav>
    </section>
  );
}
