import { sql, type SQL } from 'drizzle-orm';
import type { FunnelQuery } from './schema';
import { allOf, at, breakdownKey, scope, unknownSources } from './sql';

/**
 * A funnel in one statement. `c`: every event of the range (and the window after it) that matches a step, with the
 * mask of the steps it matches (bit 0, the first step, only inside the range); `p`: per distinct id with a first
 * step, the steps reached (funnel_reach, drizzle/0015_event_queries.sql) and the breakdown key of its first step-1
 * event (lowest id among equal timestamps); `g`: per key, the ids reaching each step, ranked by step-1 count then key.
 */
export function funnelStatement(q: FunnelQuery): SQL {
  const { from, to } = q.range;
  const n = q.steps.length;
  const limit = q.breakdown ? q.breakdown.limit : 1;
  const key = q.breakdown ? breakdownKey(q.breakdown.property) : sql`''`;
  const names = [...new Set(q.steps.map((s) => s.event))];
  const first = sql`(e.event = ${q.steps[0]!.event} and e.timestamp < ${at(to)} and ${allOf(q.steps[0]!.filters)})`;
  const bits = q.steps.map((s, i) =>
    i === 0 ? sql`(case when ${first} then 1 else 0 end)` : sql`(case when e.event = ${s.event} and ${allOf(s.filters)} then ${1 << i} else 0 end)`,
  );
  const win = sql`make_interval(secs => ${q.windowSeconds}::int)`;
  const reached = sql.join(
    q.steps.map((_, i) => sql`count(*) filter (where p.lvl >= ${i + 1})::int`),
    sql`, `,
  );
  return sql`with c as materialized (
      select e.distinct_id as d, e.timestamp as ts, e.id, ${sql.join(bits, sql` | `)} as m,
        case when ${first} then ${key} end as k
      from events e
      where e.event = any(${sql.param(names)}::text[]) and e.timestamp >= ${at(from)} and e.timestamp < ${at(to)} + ${win} and ${scope(q)}
    ), p as materialized (
      select c.d, funnel_reach(array_agg(c.ts order by c.ts, c.id), array_agg(c.m order by c.ts, c.id), ${n}::int, ${win}) as lvl,
        (array_agg(c.k order by c.ts, c.id) filter (where c.m & 1 = 1))[1] as k
      from c where c.m <> 0 group by c.d having bool_or(c.m & 1 = 1)
    ), g as materialized (
      select p.k, json_build_array(${reached}) as steps, row_number() over (order by count(*) desc, p.k collate "C") as r
      from p group by p.k
    )
    select json_build_object(
      'top', (select coalesce(json_agg(json_build_array(g.k, g.steps) order by g.r), '[]'::json) from g where g.r <= ${limit}),
      'other', case when exists (select 1 from g where g.r > ${limit})
        then (select json_build_array(${reached}) from p join g on g.k = p.k where g.r > ${limit}) end,
      'unknownSources', ${unknownSources(q)}
    ) as result`;
}

interface Raw {
  top: [string, number[]][];
  other: number[] | null;
}

export interface FunnelResult {
  data: { breakdown: unknown; steps: { event: string; count: number }[] }[];
}

export function decodeFunnel(q: FunnelQuery, raw: Raw): FunnelResult {
  const entry = (breakdown: unknown, counts: number[] | undefined) => ({
    breakdown,
    steps: q.steps.map((s, i) => ({ event: s.event, count: counts?.[i] ?? 0 })),
  });
  if (!q.breakdown) return { data: [entry(null, raw.top[0]?.[1])] };
  const data = raw.top.map(([k, counts]) => entry(JSON.parse(k), counts));
  if (raw.other) data.push(entry('$other', raw.other));
  return { data };
}
