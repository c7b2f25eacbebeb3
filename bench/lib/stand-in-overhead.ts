/**
 * What the local stand-in for Neon's proxy costs by itself: `select 1` from Node through it (the driver's `neon()`
 * over HTTP, kept-alive connections, the stand-in's warm pool) against the same statement on a direct `pg.Pool`.
 * Same concurrency, alternating runs, medians. The RTT model must be 0 while this runs.
 */
import { neon } from '@neondatabase/serverless';
import pg from 'pg';
import { useLocalProxy } from '../../src/db/client';
import { median, percentile } from './load';

async function closedLoop(connections: number, ms: number, once: () => Promise<unknown>) {
  const latencies: number[] = [];
  const until = performance.now() + ms;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until) {
        const t = performance.now();
        await once();
        latencies.push(performance.now() - t);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { perSecond: latencies.length / (ms / 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

export async function measureStandInOverhead(databaseUrl: string, proxy: string, connections: number, rounds = 3, ms = 1500) {
  useLocalProxy(proxy);
  const sql = neon(databaseUrl);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: connections });
  try {
    const direct = () => pool.query('select 1');
    const standIn = () => sql.query('select 1');
    await closedLoop(connections, 300, direct);
    await closedLoop(connections, 300, standIn);
    const runs = { direct: [] as Awaited<ReturnType<typeof closedLoop>>[], standIn: [] as Awaited<ReturnType<typeof closedLoop>>[] };
    for (let i = 0; i < rounds; i++) {
      runs.direct.push(await closedLoop(connections, ms, direct));
      runs.standIn.push(await closedLoop(connections, ms, standIn));
    }
    const summary = (r: typeof runs.direct) => ({
      perSecond: Math.round(median(r.map((x) => x.perSecond))),
      p50: median(r.map((x) => x.p50)),
      p99: median(r.map((x) => x.p99)),
    });
    const d = summary(runs.direct);
    const s = summary(runs.standIn);
    return { connections, direct: d, standIn: s, p50Overhead: s.p50 / d.p50 - 1, throughputRatio: s.perSecond / d.perSecond };
  } finally {
    await pool.end();
  }
}
