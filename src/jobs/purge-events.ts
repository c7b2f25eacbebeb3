import { sql } from 'drizzle-orm';
import type { Db } from '../db/client';

/** Event rows removed per run: one run stays short; a big deleted source takes several hours' runs. */
const BATCH = 50_000;

export interface EventPurgeReport {
  events: number;
  eventKeys: number;
  sources: number;
  windows: number;
  partitions: number;
}

/**
 * The event store's hourly upkeep, in one statement: the rows of deleted sources (already out of every result since
 * the deletion) in batches, then their exactly-once keys, and the source row itself once no event of it remains (as
 * seen at the start of this run: the next run removes a source emptied by this one); rate-limit windows older than
 * an hour; and the next two months' partitions (ensure_event_partitions, 0012).
 */
export async function purgeEvents(db: Db): Promise<EventPurgeReport> {
  const batch = sql.raw(String(BATCH));
  const rows = await db.execute<Omit<EventPurgeReport, 'partitions'> & { partitions: number }>(sql`
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
  return rows.rows[0]!;
}
