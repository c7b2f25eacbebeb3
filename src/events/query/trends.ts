import { sql, type SQL } from 'drizzle-orm';
import type { TrendsQuery } from './schema';
import { allOf, at, breakdownKey, buckets, intervalKey, scope, unknownSources } from './sql';

/**
 * Trends in one statement. Per series: its events in the range (`s<i>`), their totals per breakdown key ranked by
 * total then key (`r<i>`), and the values per (group, interval) for the top `limit` keys and `$other`. Without a
 * breakdown every event has the key '' (one group). The Worker zero-fills the points from the interval list.
 */
export function trendsStatement(q: TrendsQuery): SQL {
  const { from, to } = q.range;
  const limit = q.breakdown ? q.breakdown.limit : 1;
  const key = q.breakdown ? breakdownKey(q.breakdown.property) : sql`''`;
  const ctes: SQL[] = [sql`bk as materialized (${buckets(q.interval, q.tz, from, to)})`];
  const series: SQL[] = [];
  q.series.forEach((s, i) => {
    const ev = sql.raw(`s${i}`);
    const rk = sql.raw(`r${i}`);
    const agg = s.math === 'uniques' ? sql`count(distinct x.d)::int` : sql`count(*)::int`;
    ctes.push(sql`${ev} as materialized (
      select ${intervalKey(q.interval, q.tz)} as b, e.distinct_id as d, ${key} as k
      from events e
      where e.event = ${s.event} and e.timestamp >= ${at(from)} and e.timestamp < ${at(to)} and ${scope(q)} and ${allOf(s.filters)}
    )`);
    ctes.push(sql`${rk} as materialized (
      select x.k, ${agg} as n, row_number() over (order by ${agg} desc, x.k collate "C") as r from ${ev} x group by x.k
    )`);
    series.push(sql`json_build_object(
      'top', (select coalesce(json_agg(json_build_array(r.k, r.n) order by r.r), '[]'::json) from ${rk} r where r.r <= ${limit}),
      'other', case when exists (select 1 from ${rk} r where r.r > ${limit})
        then (select ${agg} from ${ev} x join ${rk} r on r.k = x.k where r.r > ${limit}) end,
      'cells', (select coalesce(json_agg(json_build_array(c.g, b.i, c.n)), '[]'::json)
        from (select case when r.r <= ${limit} then x.k end as g, x.b, ${agg} as n
              from ${ev} x join ${rk} r on r.k = x.k group by 1, 2) c
        join bk b on b.key = c.b)
    )`);
  });
  return sql`with ${sql.join(ctes, sql`, `)}
    select json_build_object(
      'buckets', (select json_agg(b.t order by b.i) from bk b),
      'series', json_build_array(${sql.join(series, sql`, `)}),
      'unknownSources', ${unknownSources(q)}
    ) as result`;
}

interface Raw {
  buckets: string[];
  series: { top: [string, number][]; other: number | null; cells: [string | null, number, number][] }[];
}

export interface TrendsResult {
  data: { series: number; breakdown: unknown; total: number; points: { t: string; value: number }[] }[];
}

export function decodeTrends(q: TrendsQuery, raw: Raw): TrendsResult {
  const data: TrendsResult['data'] = [];
  raw.series.forEach((s, i) => {
    const points = new Map<string | null, number[]>();
    for (const [g, b, n] of s.cells) {
      let values = points.get(g);
      if (!values) points.set(g, (values = new Array<number>(raw.buckets.length).fill(0)));
      values[b] = n;
    }
    const entry = (group: string | null, breakdown: unknown, total: number) => {
      const values = points.get(group) ?? new Array<number>(raw.buckets.length).fill(0);
      data.push({ series: i, breakdown, total, points: raw.buckets.map((t, b) => ({ t, value: values[b]! })) });
    };
    if (!q.breakdown) {
      entry('', null, s.top[0]?.[1] ?? 0);
      return;
    }
    for (const [k, n] of s.top) entry(k, JSON.parse(k), n);
    if (s.other !== null) entry(null, '$other', s.other);
  });
  return { data };
}
