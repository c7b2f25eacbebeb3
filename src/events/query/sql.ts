import { sql, type SQL } from 'drizzle-orm';
import type { EventQuery, Filter } from './schema';

/**
 * The SQL pieces every §14 statement is built from. Values always travel as parameters; property paths become
 * chains of `-> key` (object keys only: `->` with a text key on an array is null, so a path never indexes an array).
 */

const iso = (ms: number) => new Date(ms).toISOString();
export const at = (ms: number) => sql`${iso(ms)}::timestamptz`;

/** The property at `path` (dot-separated keys) of the event row `e`, as jsonb; SQL null when absent. */
export function property(path: string): SQL {
  let expr = sql`e.properties`;
  for (const key of path.split('.')) expr = sql`(${expr} -> ${key}::text)`;
  return expr;
}

const json = (value: unknown) => sql`${JSON.stringify(value)}::jsonb`;

/** One filter as a boolean condition (never null) on the row `e`. */
export function filterCondition(f: Filter): SQL {
  const p = property(f.property);
  switch (f.op) {
    case 'eq':
      return sql`coalesce(${p} = ${json(f.value)}, false)`;
    case 'neq':
      return sql`(${p} is distinct from ${json(f.value)})`;
    case 'in':
      return sql`coalesce(${p} in (${sql.join((f.value as unknown[]).map(json), sql`, `)}), false)`;
    case 'contains':
      // pg_c_utf8: Unicode's simple case mapping whatever the database's locale (PostgreSQL 17+).
      return sql`coalesce(case when jsonb_typeof(${p}) = 'string'
        then strpos(lower((${p} #>> '{}') collate "pg_c_utf8"), lower(${f.value as string}::text collate "pg_c_utf8")) > 0 end, false)`;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const op = sql.raw({ gt: '>', gte: '>=', lt: '<', lte: '<=' }[f.op]);
      // CASE, not AND: only a number may reach the cast (a string would make it raise).
      return sql`coalesce(case when jsonb_typeof(${p}) = 'number' then (${p})::numeric ${op} ${String(f.value)}::numeric end, false)`;
    }
    case 'is_set':
      return sql`(${p} is not null)`;
    case 'is_not_set':
      return sql`(${p} is null)`;
  }
}

export const allOf = (filters: Filter[] | undefined): SQL =>
  filters && filters.length > 0 ? sql.join(filters.map(filterCondition), sql` and `) : sql`true`;

/**
 * The breakdown key of the row `e`: the compact JSON text of the breakdown value (a missing property is `null`; an
 * object or array is shown as its compact JSON text, a string, so its key is that string's JSON text). Ordering these
 * texts with COLLATE "C" orders them by code point (UTF-8 byte order is code point order).
 */
export function breakdownKey(path: string): SQL {
  const p = property(path);
  return sql`(case when ${p} is null then 'null' when jsonb_typeof(${p}) in ('object', 'array') then to_jsonb(jsonb_compact(${p}))::text else (${p})::text end)`;
}

/**
 * The event rows every part of a query reads: those of live sources (a deleted source's events leave every result
 * at once), of the query's `sources` when it names some, that pass its top-level filters.
 */
export function scope(q: EventQuery): SQL {
  const sources = q.sources && q.sources.length > 0 ? sql` and e.source_id = any(${sql.param(q.sources)}::int[])` : sql``;
  return sql`exists (select 1 from sources s where s.id = e.source_id and s.deleted_at is null)${sources} and ${allOf(q.filters)}`;
}

/** The positions (0-based) in `sources` of ids that are not live sources: a json array, empty when all are. */
export function unknownSources(q: EventQuery): SQL {
  if (!q.sources || q.sources.length === 0) return sql`'[]'::json`;
  return sql`(select coalesce(json_agg(x.i - 1 order by x.i), '[]'::json) from unnest(${sql.param(q.sources)}::int[]) with ordinality x(id, i)
    where not exists (select 1 from sources s where s.id = x.id and s.deleted_at is null))`;
}

export type Interval = 'hour' | 'day' | 'week' | 'month';

/** The interval key of the row `e` (or of `instant`): the local date the interval starts on, or for hours the instant it starts. */
export function intervalKey(interval: Interval, tz: string, instant: SQL = sql`e.timestamp`): SQL {
  const local = sql`(${instant} at time zone ${tz}::text)`;
  if (interval === 'hour') return sql`date_trunc('hour', ${instant}, ${tz}::text)`;
  if (interval === 'day') return sql`(${local})::date`;
  return sql`date_trunc(${interval}::text, ${local})::date`;
}

/**
 * `buckets(i, key, t)`: every interval of [from, to) in `tz`, oldest first, i from 0; `key` as `intervalKey`, `t` as
 * §14 shows it (a local date, or for hours the local time with its offset).
 */
export function buckets(interval: Interval, tz: string, from: number, to: number): SQL {
  const last = sql`(${at(to)} - interval '1 microsecond')`;
  if (interval === 'hour') {
    const offset = sql`((h at time zone ${tz}::text) - (h at time zone 'UTC'))`;
    return sql`select (row_number() over (order by h) - 1)::int as i, h as key,
        to_char(h at time zone ${tz}::text, 'YYYY-MM-DD"T"HH24:MI:SS')
          || case when ${offset} < interval '0' then '-' || to_char(-${offset}, 'HH24:MI') else '+' || to_char(${offset}, 'HH24:MI') end as t
      from generate_series(date_trunc('hour', ${at(from)}, ${tz}::text), ${last}, interval '1 hour') h`;
  }
  const local = (instant: SQL) => sql`(${instant} at time zone ${tz}::text)`;
  const start = (instant: SQL) => (interval === 'day' ? sql`(${local(instant)})::date` : sql`date_trunc(${interval}::text, ${local(instant)})::date`);
  const step = sql.raw(`interval '1 ${interval}'`);
  return sql`select (row_number() over (order by d) - 1)::int as i, d::date as key, to_char(d, 'YYYY-MM-DD') as t
    from generate_series(${start(at(from))}, ${start(last)}, ${step}) d`;
}
