import { sql, type SQL } from 'drizzle-orm';
import type { RetentionQuery } from './schema';
import { at, buckets, intervalKey, scope, unknownSources } from './sql';

/**
 * Retention in one statement. `f`: each id's first start event inside the range; `co`: those whose first start event
 * ever it is (no earlier one, before `from`), with their cohort interval; `ret`: the intervals in which each cohort
 * member has a return event (any event when none is named) inside the range; `act`: members per (cohort, interval).
 */
export function retentionStatement(q: RetentionQuery): SQL {
  const { from, to } = q.range;
  const key = intervalKey(q.interval, q.tz);
  const returns = q.returnEvent === undefined ? sql`true` : sql`e.event = ${q.returnEvent}`;
  return sql`with bk as materialized (${buckets(q.interval, q.tz, from, to)}),
    f as (
      select e.distinct_id as d, min(e.timestamp) as first
      from events e
      where e.event = ${q.startEvent} and e.timestamp >= ${at(from)} and e.timestamp < ${at(to)} and ${scope(q)}
      group by e.distinct_id
    ), co as materialized (
      select f.d, ${intervalKey(q.interval, q.tz, sql`f.first`)} as c from f
      where not exists (select 1 from events e where e.event = ${q.startEvent} and e.distinct_id = f.d and e.timestamp < ${at(from)} and ${scope(q)})
    ), ret as (
      select distinct e.distinct_id as d, ${key} as b
      from co join events e on e.distinct_id = co.d
      where ${returns} and e.timestamp >= ${at(from)} and e.timestamp < ${at(to)} and ${scope(q)}
    ), act as (
      select co.c, ret.b, count(*)::int as n from co join ret on ret.d = co.d and ret.b >= co.c group by 1, 2
    )
    select json_build_object(
      'buckets', (select json_agg(b.t order by b.i) from bk b),
      'sizes', (select coalesce(json_agg(json_build_array(b.i, x.n)), '[]'::json)
                from (select co.c, count(*)::int as n from co group by co.c) x join bk b on b.key = x.c),
      'active', (select coalesce(json_agg(json_build_array(b1.i, b2.i - b1.i, a.n)), '[]'::json)
                 from act a join bk b1 on b1.key = a.c join bk b2 on b2.key = a.b),
      'unknownSources', ${unknownSources(q)}
    ) as result`;
}

interface Raw {
  buckets: string[];
  sizes: [number, number][];
  active: [number, number, number][];
}

export interface RetentionResult {
  data: { cohort: string; size: number; active: number[] }[];
}

export function decodeRetention(_q: RetentionQuery, raw: Raw): RetentionResult {
  const count = raw.buckets.length;
  const data = raw.buckets.map((cohort, i) => ({ cohort, size: 0, active: new Array<number>(count - i).fill(0) }));
  for (const [i, n] of raw.sizes) data[i]!.size = n;
  for (const [i, k, n] of raw.active) data[i]!.active[k] = n;
  return { data };
}
