import type { InferRequestType } from 'hono/client';
import { api, download } from '../api';
import { t } from '../i18n';
import { ErrorBox, submit, useAction } from '../ui';

/** The audit log as CSV for a time range (`from` inclusive, `to` exclusive, contract §11) and the chosen action. */
type Action = InferRequestType<typeof api.v1.audit.export.$get>['query']['action'];

export function ExportAudit({ action }: { action?: Action }) {
  const run = useAction(async (values: Record<string, string>) => {
    const iso = (local?: string) => (local ? new Date(local).toISOString() : undefined);
    const query = { from: iso(values.from), to: iso(values.to), action };
    await download(api.v1.audit.export.$url({ query }).toString(), 'audit.csv');
  });
  return (
    <form class="filters" onSubmit={submit((v) => void run.run(v))}>
      <label>
        {t('audit.from')}
        <input type="datetime-local" name="from" />
      </label>
      <label>
        {t('audit.to')}
        <input type="datetime-local" name="to" />
      </label>
      <button disabled={run.busy}>{t('common.exportCsv')}</button>
      <ErrorBox error={run.error} />
    </form>
  );
}
