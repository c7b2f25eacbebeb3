import { sql } from 'drizzle-orm';
import { createDb } from '../db/client';
import type { Config } from '../env';
import { DEV_FROM, transportFor } from './transports';
import type { SendResult } from './transports/transport';

/** At most this many messages per run; the rest wait for the next one. */
const BATCH = 25;
/** A claimed message is not claimed again for this long (a run that died mid-send is retried after it). */
const LEASE_SECONDS = 300;
const MAX_BACKOFF_SECONDS = 6 * 3600;

type Claimed = {
  id: string;
  kind: string;
  to_address: string;
  subject: string;
  text_body: string | null;
  html_body: string | null;
  attempts: number;
};

export interface DeliveryReport {
  sent: number;
  retrying: number;
  failed: number;
}

/** Seconds before attempt `attempts + 1`: 1, 2, 4 … minutes (±10 %), capped at 6 hours, never sooner than the provider asked. */
export function backoffSeconds(attempts: number, retryAfter = 0): number {
  const base = Math.min(60 * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS);
  const jittered = Math.round(base * (0.9 + Math.random() * 0.2));
  return Math.max(jittered, Math.ceil(retryAfter));
}

/**
 * Sends due messages (only `ids` when given: what one request just queued) on a database connection of its own.
 * Claiming counts the attempt and leases the rows in one statement (`skip locked`), so the request's waitUntil and
 * the scheduled handler never send one message at the same time; the outcomes are written in one more statement.
 */
export async function deliver(config: Config, ids?: string[]): Promise<DeliveryReport> {
  const report: DeliveryReport = { sent: 0, retrying: 0, failed: 0 };
  const handle = createDb(config);
  try {
    const only = ids ? sql`and id = any(${sql.param(ids)}::uuid[])` : sql``;
    const claimed = await handle.db.execute<Claimed>(sql`
      update email_outbox o set attempts = o.attempts + 1, next_attempt_at = now() + make_interval(secs => ${LEASE_SECONDS})
      where o.id in (
        select id from email_outbox where status = 'pending' and next_attempt_at <= now() ${only}
        order by next_attempt_at limit ${BATCH} for update skip locked
      )
      returning o.id, o.kind, o.to_address, o.subject, o.text_body, o.html_body, o.attempts`);
    if (claimed.rows.length === 0) return report;

    const transport = transportFor(config);
    const from = config.EMAIL_FROM ?? DEV_FROM;
    const results = await Promise.all(
      claimed.rows.map(async (row): Promise<[Claimed, SendResult]> => {
        const email = { id: row.id, from, to: row.to_address, subject: row.subject, text: row.text_body ?? '', html: row.html_body ?? '' };
        const result = await transport.send(email).catch((error): SendResult => ({ ok: false, retry: true, error: String(error).slice(0, 200) }));
        return [row, result];
      }),
    );

    const outcomes = results.map(([row, result]) => {
      if (result.ok) {
        report.sent++;
        return { id: row.id, status: 'sent', provider_id: result.providerId, error: null, delay: 0 };
      }
      const final = !result.retry || row.attempts >= config.EMAIL_MAX_ATTEMPTS;
      if (final) {
        report.failed++;
        // Ids and kinds only: the address and the body (which holds a link) stay out of the logs.
        console.error(JSON.stringify({ level: 'error', msg: 'email failed for good', id: row.id, kind: row.kind, attempts: row.attempts, error: result.error }));
      } else {
        report.retrying++;
        console.warn(JSON.stringify({ level: 'warn', msg: 'email will be retried', id: row.id, kind: row.kind, attempts: row.attempts, error: result.error }));
      }
      return { id: row.id, status: final ? 'failed' : 'pending', provider_id: null, error: result.error, delay: final ? 0 : backoffSeconds(row.attempts, result.retryAfter) };
    });
    // A provider's copy is the one that matters once sent: the bodies (links with live tokens) leave the database.
    const keep = transport.keepsBodies;
    await handle.db.execute(sql`
      update email_outbox o set status = v.status, last_error = v.error, transport = ${transport.name},
        provider_id = coalesce(v.provider_id, o.provider_id),
        sent_at = case when v.status = 'sent' then now() end,
        next_attempt_at = now() + make_interval(secs => v.delay),
        text_body = case when v.status <> 'pending' and not ${keep} then null else o.text_body end,
        html_body = case when v.status <> 'pending' and not ${keep} then null else o.html_body end
      from json_to_recordset(${JSON.stringify(outcomes)}::json) as v(id uuid, status text, provider_id text, error text, delay int)
      where o.id = v.id`);
    return report;
  } finally {
    await handle.close().catch(() => {});
  }
}
