import { sql, type SQL } from 'drizzle-orm';
import { liveKey } from './write-keys';

/**
 * CTEs that admit a request: `k` is the source of the write key (none: 401), `w` the per-source window after counting
 * `count` events (none: the batch would go over INGEST_EVENTS_PER_MINUTE, and is refused whole, uncounted). The
 * window is fixed, one minute on the clock (documented in docs/ingest.md); a refused batch is not counted, so a
 * client that waits for Retry-After gets in. The final SELECT reads `admissionColumns`.
 */
export function admit(keyHash: string, count: number, limit: number): SQL {
  return sql`
    k as (${liveKey(keyHash)} limit 1),
    w as (
      insert into ingest_windows as w (source_id, window_start, events)
      select k.source_id, date_bin('1 minute', now(), 'epoch'), ${count}::int from k where ${count}::int between 1 and ${limit}::int
      on conflict (source_id, window_start) do update set events = w.events + excluded.events
      where w.events + excluded.events <= ${limit}::int
      returning events
    )`;
}

/** source (null: no such key), admitted, and the seconds until the window ends (for Retry-After). */
export const admissionColumns = sql`(select source_id from k) as source, exists (select 1 from w) as admitted,
  ceil(extract(epoch from date_bin('1 minute', now(), 'epoch') + interval '1 minute' - now()))::int as "retryAfter"`;

export type Admission = {
  source: number | null;
  admitted: boolean;
  retryAfter: number;
};
