import { createDb } from '../db/client';
import { deliver } from '../email/deliver';
import { loadConfig, type Bindings } from '../env';
import { describeError } from '../lib/db-errors';
import { purge } from './purge';
import { purgeEvents } from './purge-events';

/** The Cron Triggers of wrangler.toml: delivery retries every minute, the purge once an hour. */
export const DELIVERY_CRON = '* * * * *';
export const PURGE_CRON = '17 * * * *';

/**
 * The Worker's `scheduled` entry. A run of an unknown cron (e.g. one added in the dashboard) does both jobs.
 * Errors are logged and rethrown so the Cron Trigger's own status shows the failure.
 */
export async function runScheduled(controller: Pick<ScheduledController, 'cron'>, env: Bindings): Promise<void> {
  const config = loadConfig(env);
  const jobs: Promise<unknown>[] = [];
  if (controller.cron !== PURGE_CRON) {
    jobs.push(
      deliver(config).then((report) => {
        if (report.sent + report.retrying + report.failed > 0) console.log(JSON.stringify({ level: 'info', msg: 'email delivery', ...report }));
      }),
    );
  }
  if (controller.cron !== DELIVERY_CRON) {
    jobs.push(
      (async () => {
        const handle = createDb(config);
        try {
          console.log(JSON.stringify({ level: 'info', msg: 'purge', ...(await purge(handle.db, config)) }));
          // Deleted sources' events, old ingest windows, next months' event partitions (src/jobs/purge-events.ts).
          console.log(JSON.stringify({ level: 'info', msg: 'event purge', ...(await purgeEvents(handle.db, config)) }));
        } finally {
          await handle.close().catch(() => {});
        }
      })(),
    );
  }
  const failures = (await Promise.allSettled(jobs)).filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  for (const failure of failures) {
    console.error(JSON.stringify({ level: 'error', msg: 'scheduled job failed', cron: controller.cron, error: describeError(failure.reason) }));
  }
  if (failures.length > 0) throw failures[0]!.reason;
}
