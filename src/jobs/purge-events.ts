import { sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import type { Config } from '../env';
import { untilShort } from './batches';

/** Event rows removed per run: one run stays short; a big deleted source takes several hours' runs. */
const BATCH = 50_000;

export interface EventPurgeReport {
  events: number;
  eventKeys: number;
  sources: number;
  windows: number;
  partitions: number;
  /** Exactly-once keys past their purpose (0026): `i:` after REDELIVERY_DAYS, `m:` after INGEST_DEDUP_DAYS. */
  expiredKeys: number;
}

/**
 * Days an `i:` key (the route's own id of an event without a messageId) is kept: it only stops a redelivered queue
 * message from doubling, and Cloudflare Queues keep a message at most 14 days; one day of margin.
 */
export const REDELIVERY_DAYS = 15;
/** Expired keys removed per statement, and statements per run: 2M keys an hour (docs/ingest.md says when that is short). */
const KEY_BATCH = 100_000;
const KEY_BATCHES_PER_RUN = 20;

/**
 * The event store's hourly upkeep, in one statement: the rows of deleted sources (already out of every result since
 * the deletion) in batches, then their exactly-once keys, and the source row itself once no event of it remains (as
 * seen at the start of this run: the next run removes a source emptied by this one); rate-limit windows older than
 * an hour; and the next two months' partitions (ensure_event_partitions, 0012). Then, in batches, the exactly-once
 * keys whose purpose has passed (purgeExpiredKeys).
 */
export async function purgeEvents(db: Db, config: Pick<Config, 'INGEST_DEDUP_DAYS'>): Promise<EventPurgeReport> {
  const batch = sql.raw(String(BATCH));
  const rows = await db.execute<Omit<EventPurgeReport, 'expiredKeys'>>(sql`
    with gone as (select id from sources where deleted_at is not null),
    ev as (
      delete from events where (id, "timestamp") in (
        select id, "timestamp" from events where source_id in (select id from gone) limit ${batch})
      returning 1
    ), keys as (
      delete from event_keys where (source_id, key) in (
        select source_id, key from event_keys where source_id in (select id from gone) limit ${batch})
      returning 1
    ), src as (
      delete from sources s where s.id in (select id from gone)
        and not exists (select 1 from events e where e.source_id = s.id)
        and not exists (select 1 from event_keys k where k.source_id = s.id)
      returning 1
    ), windows as (
      delete from ingest_windows where window_start < now() - interval '1 hour' returning 1
    )
    select (select count(*) from ev)::int as events, (select count(*) from keys)::int as "eventKeys",
      (select count(*) from src)::int as sources, (select count(*) from windows)::int as windows,
      ensure_event_partitions(date_trunc('month', now())::date, (date_trunc('month', now()) + interval '2 months')::date) as partitions`);
  const expiredKeys = await untilShort(KEY_BATCH, KEY_BATCHES_PER_RUN, () => purgeExpiredKeys(db, config.INGEST_DEDUP_DAYS));
  return { ...rows.rows[0]!, expiredKeys };
}

/**
 * One batch of expired exactly-once keys (by `ctid`: the key table has no narrower handle), found through the BRIN
 * index on `created_at`. `m:` keys only when `dedupDays` > 0: §13's exactly once is otherwise kept forever.
 */
async function purgeExpiredKeys(db: Db, dedupDays: number): Promise<number> {
  const result = await db.execute<{ n: number }>(sql`
    with gone as (
      delete from event_keys where ctid = any(array(
        select ctid from event_keys
        where created_at < now() - make_interval(days => ${REDELIVERY_DAYS})
          and (key like 'i:%' or (${dedupDays}::int > 0 and created_at < now() - make_interval(days => ${dedupDays}::int)))
        limit ${sql.raw(String(KEY_BATCH))}))
      returning 1
    )
    select count(*)::int as n from gone`);
  return result.rows[0]!.n;
}
