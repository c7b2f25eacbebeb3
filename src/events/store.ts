import { sql, type SQL } from 'drizzle-orm';
import type { StoredEvent } from './validate';

/** One source's events as the ingest route hands them to the queue (one message; a large batch is several). */
export interface EventsMessage {
  v: 1;
  source: number;
  events: StoredEvent[];
}

/** The columns every batch below yields, from a JSON array of StoredEvent (plus `source` on each for the queue's). */
const RECORD = sql.raw(`(source integer, id text, event text, "distinctId" text, "timestamp" timestamptz, "receivedAt" timestamptz,
  country text, properties jsonb, "messageId" text)`);

/** The rows of a JSON text holding StoredEvent objects (each with `source` where `source` is not given here). */
export const eventRows = (json: string): SQL => sql`select * from jsonb_to_recordset(${json}::jsonb) as e${RECORD}`;

/**
 * CTEs that store a batch exactly once (contract §13) and count it: `batch` is a SELECT yielding the RECORD columns
 * (with `source` set). Events of a deleted source are dropped (their source left every result when it was deleted).
 * An event's key is `m:<messageId>`, or, with `keyEveryEvent` (the queue path, whose batches can be delivered twice),
 * `i:<the route's id>`; `event_keys` takes each key once, and only an event whose key this statement inserted is
 * stored. A key that a concurrent statement is inserting makes this one wait for it, then skip the event: two
 * deliveries of one batch, or two requests carrying one messageId, store it once. Without `keyEveryEvent` (the direct
 * path, which writes each request once) an event without messageId has no key and is always stored.
 * `sources.last_event_at` moves at most once a minute per source, so the hot source row is rarely locked.
 * Yields `stored` (rows inserted).
 */
export function storeEvents(batch: SQL, { keyEveryEvent }: { keyEveryEvent: boolean }): SQL {
  const key = keyEveryEvent
    ? sql`coalesce('m:' || b."messageId", 'i:' || b.id)`
    : sql`'m:' || b."messageId"`;
  return sql`
    incoming as (
      select distinct on (b.source, coalesce(b.key, b.id)) b.*
      from (select b.*, ${key} as key from (${batch}) b) b
      join sources s on s.id = b.source and s.deleted_at is null
    ),
    keyed as (
      insert into event_keys (source_id, key) select source, key from incoming where key is not null
      on conflict do nothing returning source_id, key
    ),
    stored as (
      insert into events (source_id, event, distinct_id, "timestamp", received_at, country, properties, message_id)
      select i.source, i.event, i."distinctId", i."timestamp", i."receivedAt", i.country, i.properties, i."messageId"
      from incoming i
      where i.key is null or exists (select 1 from keyed k where k.source_id = i.source and k.key = i.key)
      returning source_id
    ),
    touched as (
      update sources s set last_event_at = now()
      where s.id in (select distinct source_id from stored) and (s.last_event_at is null or s.last_event_at < now() - interval '1 minute')
    )`;
}
