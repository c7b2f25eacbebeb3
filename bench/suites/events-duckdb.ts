/**
 * The DuckDB anchor of the events bench (./events.ts): the same §14 questions answered by DuckDB over the same events
 * exported to Parquet, written the way one would for DuckDB (ASOF joins for the funnel), not translated from the
 * PostgreSQL statements. Each answer is reduced to a canonical set of facts and compared with PostgreSQL's, so the
 * anchor is known to answer the same question. Exact for the measured cases; the funnel's ASOF chain is exact only
 * when no two steps share an event name (§14's "no event used twice" then never matters), as in every case here.
 */
import type { EventQueryResult } from '../../src/events/query/run';
import { timeRuns } from '../lib/scale';

export type DuckCase =
  | { kind: 'trends'; event: string; math: 'total' | 'uniques'; interval: 'hour' | 'day'; tz: string; from: string; to: string; breakdown?: string; limit?: number }
  | { kind: 'funnel'; steps: string[]; windowSeconds: number; from: string; to: string }
  | { kind: 'retention'; startEvent: string; from: string; to: string };

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;
const ts = (iso: string) => `timestamptz ${lit(iso)}`;

function statement(c: DuckCase): string {
  if (c.kind === 'trends') {
    const agg = c.math === 'total' ? 'count(*)' : 'count(distinct distinct_id)';
    const where = `event = ${lit(c.event)} and "timestamp" >= ${ts(c.from)} and "timestamp" < ${ts(c.to)}`;
    if (c.breakdown) {
      const key = `coalesce(properties ->> ${lit(`$.${c.breakdown}`)}, 'null')`;
      return `with t as (select ${key} as k, ${agg} as n from events where ${where} group by 1),
        r as (select k, n, row_number() over (order by n desc, k) as r from t)
        select case when r <= ${c.limit} then k else '$other' end as k, sum(n)::bigint as n, min(r) as r from r group by 1 order by 3`;
    }
    const key = c.interval === 'day' ? `strftime(date_trunc('day', "timestamp"), '%Y-%m-%d')` : `epoch_ms(date_trunc('hour', "timestamp"))::varchar`;
    return `select ${key} as k, ${agg} as n from events where ${where} group by 1`;
  }
  if (c.kind === 'funnel') {
    const win = `interval ${c.windowSeconds} second`;
    const parts = [
      `ev as (select distinct_id as d, "timestamp" as ts, event from events where event in (${c.steps.map(lit).join(', ')})
        and "timestamp" >= ${ts(c.from)} and "timestamp" < ${ts(c.to)} + ${win})`,
      `j1 as (select d, ts as t1 from ev where event = ${lit(c.steps[0]!)} and ts < ${ts(c.to)})`,
    ];
    const t = (i: number) => `t${i}`;
    for (let i = 2; i <= c.steps.length; i++) {
      const carried = Array.from({ length: i - 1 }, (_, k) => `j.${t(k + 1)}`).join(', ');
      parts.push(`s${i} as (select d, ts from ev where event = ${lit(c.steps[i - 1]!)})`);
      parts.push(`j${i} as (select j.d, ${carried}, case when s.ts <= j.t1 + ${win} then s.ts end as ${t(i)}
        from j${i - 1} j asof left join s${i} s on s.d = j.d and s.ts >= j.${t(i - 1)})`);
    }
    const lvl = Array.from({ length: c.steps.length - 1 }, (_, k) => `when ${t(c.steps.length - k)} is not null then ${c.steps.length - k}`).join(' ');
    parts.push(`p as (select d, max(case ${lvl} else 1 end) as lvl from j${c.steps.length} group by d)`);
    const counts = c.steps.map((_, i) => `count(*) filter (where lvl >= ${i + 1})`).join(', ');
    return `with ${parts.join(',\n')} select list_value(${counts})::bigint[] as counts from p`;
  }
  const range = `"timestamp" >= ${ts(c.from)} and "timestamp" < ${ts(c.to)}`;
  return `with f as (select distinct_id as d, min("timestamp") as first from events where event = ${lit(c.startEvent)} group by 1),
    co as (select d, date_trunc('week', first) as c from f where first >= ${ts(c.from)} and first < ${ts(c.to)}),
    ret as (select distinct distinct_id as d, date_trunc('week', "timestamp") as b from events where ${range} and distinct_id in (select d from co)),
    act as (select co.c, ret.b, count(*) as n from co join ret on ret.d = co.d and ret.b >= co.c group by 1, 2)
    select 's|' || strftime(c, '%Y-%m-%d') || '|' || count(*) as fact from co group by c
    union all
    select 'a|' || strftime(c, '%Y-%m-%d') || '|' || (datediff('day', c, b) // 7) || '|' || n from act`;
}

/** An answer as a set of facts (zero points left out: PostgreSQL's answer is zero-filled, DuckDB's is not). */
function duckFacts(c: DuckCase, rows: Record<string, unknown>[]): string[] {
  if (c.kind === 'trends') return rows.map((r) => `${r.k}|${r.n}`).sort();
  if (c.kind === 'funnel') return [(rows[0]!.counts as unknown[]).map(String).join(',')];
  return rows.map((r) => String(r.fact)).sort();
}

function pgFacts(c: DuckCase, answer: EventQueryResult): string[] {
  const data = answer.data as never[];
  if (c.kind === 'trends') {
    const series = data as { breakdown: unknown; total: number; points: { t: string; value: number }[] }[];
    if (c.breakdown) return series.map((s) => `${s.breakdown}|${s.total}`).sort();
    return series[0]!.points.filter((p) => p.value > 0).map((p) => `${c.interval === 'hour' ? Date.parse(p.t) : p.t}|${p.value}`).sort();
  }
  if (c.kind === 'funnel') return [(data as { steps: { count: number }[] }[])[0]!.steps.map((s) => s.count).join(',')];
  const facts: string[] = [];
  for (const cohort of data as { cohort: string; size: number; active: number[] }[]) {
    if (cohort.size > 0) facts.push(`s|${cohort.cohort}|${cohort.size}`);
    cohort.active.forEach((n, k) => n > 0 && facts.push(`a|${cohort.cohort}|${k}|${n}`));
  }
  return facts.sort();
}

export async function duckdbAnchor(parquet: string) {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  await connection.run(`create view events as select * from read_parquet(${lit(parquet)})`);
  const threads = (await connection.runAndReadAll(`select current_setting('threads') as t`)).getRowObjectsJson()[0]!.t;
  return {
    threads,
    async measure(c: DuckCase, samples: number) {
      await connection.run(`set TimeZone = ${lit(c.kind === 'trends' ? c.tz : 'UTC')}`);
      const text = statement(c);
      const { stats, first } = await timeRuns(samples, async () => (await connection.runAndReadAll(text)).getRowObjectsJson() as Record<string, unknown>[]);
      return { ...stats, answer: first };
    },
    /** true, or the first fact only one side holds. */
    agrees(c: DuckCase, duck: Record<string, unknown>[], answer: EventQueryResult): true | string {
      const a = new Set(duckFacts(c, duck));
      const b = new Set(pgFacts(c, answer));
      for (const f of a) if (!b.has(f)) return `DuckDB only: ${f}`;
      for (const f of b) if (!a.has(f)) return `PostgreSQL only: ${f}`;
      return true;
    },
    close() {
      connection.closeSync();
      db.closeSync();
    },
  };
}
