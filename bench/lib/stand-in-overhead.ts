/**
 * What the local stand-in for Neon's proxy costs by itself: `select 1` from Node through it (the driver's `neon()`
 * over HTTP, kept-alive connections, the stand-in's warm pool) against the same statement on a direct `pg.Pool`.
 * Same concurrency, alternating runs, medians. The RTT model must be 0 while this runs. `standInRaw` sends the same
 * request with node:http (keep-alive agent) instead of the driver's fetch, to tell the stand-in's own cost from
 * Node's fetch (undici), which the Worker does not use.
 */
import http from 'node:http';
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
    const slash = proxy.indexOf('/');
    const endpoint = `http://${proxy.slice(0, slash)}${proxy.slice(slash)}/sql`;
    const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
    const headers = { 'Neon-Connection-String': databaseUrl, 'Neon-Raw-Text-Output': 'true', 'Neon-Array-Mode': 'true' };
    const body = JSON.stringify({ query: 'select 1', params: [] });
    const standInRaw = () =>
      new Promise<void>((resolve, reject) => {
        const req = http.request(endpoint, { method: 'POST', headers, agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
        req.end(body);
      });
    type Run = Awaited<ReturnType<typeof closedLoop>>;
    const runs = { direct: [] as Run[], standIn: [] as Run[], standInRaw: [] as Run[] };
    for (const f of [direct, standIn, standInRaw]) await closedLoop(connections, 300, f);
    for (let i = 0; i < rounds; i++) {
      runs.direct.push(await closedLoop(connections, ms, direct));
      runs.standIn.push(await closedLoop(connections, ms, standIn));
      runs.standInRaw.push(await closedLoop(connections, ms, standInRaw));
    }
    agent.destroy();
    const summary = (r: typeof runs.direct) => ({
      perSecond: Math.round(median(r.map((x) => x.perSecond))),
      p50: median(r.map((x) => x.p50)),
      p99: median(r.map((x) => x.p99)),
    });
    const d = summary(runs.direct);
    const s = summary(runs.standIn);
    const raw = summary(runs.standInRaw);
    return {
      connections,
      direct: d,
      standIn: s,
      standInRaw: raw,
      p50Overhead: s.p50 / d.p50 - 1,
      rawP50Overhead: raw.p50 / d.p50 - 1,
      throughputRatio: s.perSecond / d.perSecond,
      rawThroughputRatio: raw.perSecond / d.perSecond,
    };
  } finally {
    await pool.end();
  }
}
