/**
 * What the local stand-in for Neon's proxy costs by itself: `select 1` from Node through it against the same
 * statement on a direct `pg.Pool`, same concurrency (each of `concurrencies`), alternating runs, medians. The RTT
 * model must be 0 while this runs.
 * - `direct`: a `pg.Pool` of as many connections as the loop has, the yardstick.
 * - `standIn`: the driver's request (`POST /sql`, its headers and body) sent with node:http keep-alive: the stand-in
 *   and nothing else (Node's fetch, undici, costs more than the stand-in does and is not what the Worker uses).
 * - `hop`: the same request to a node:http server in its own process that answers the stand-in's own bytes without
 *   PostgreSQL (canned-sql-server.ts): what any extra loopback HTTP exchange costs here.
 * - `viaDriver`: the driver's `neon()` on Node's fetch, for reference.
 * `ownOverhead` is the stand-in's cost above that floor: (standIn − hop) ÷ direct − 1 on p50.
 */
import http from 'node:http';
import { join } from 'node:path';
import { neon } from '@neondatabase/serverless';
import pg from 'pg';
import { useLocalProxy } from '../../src/db/client';
import { projectRoot } from '../../scripts/dev/migrate';
import { median, percentile } from './load';
import { spawnManaged } from '../../scripts/dev/processes';

interface Run {
  perSecond: number;
  p50: number;
  p99: number;
}

async function closedLoop(connections: number, ms: number, once: () => Promise<unknown>): Promise<Run> {
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

function post(endpoint: string, headers: Record<string, string>, body: string, agent: http.Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(endpoint, { method: 'POST', headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString()) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The canned server in a process of its own (as the stand-in is), answering `answer`. */
async function startHop(answer: string) {
  const proc = spawnManaged('canned /sql server', process.execPath, ['--import', 'tsx', join(projectRoot, 'bench', 'lib', 'canned-sql-server.ts')], {
    cwd: projectRoot,
    env: { ...process.env, CANNED_BODY: answer },
  });
  proc.child.stderr!.resume();
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    proc.child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    void proc.exited.then((code) => reject(new Error(`canned /sql server exited (${code})`)));
  });
  return { endpoint: `http://127.0.0.1:${port}/sql`, stop: () => proc.stop() };
}

const summary = (runs: Run[]): Run => ({
  perSecond: Math.round(median(runs.map((x) => x.perSecond))),
  p50: median(runs.map((x) => x.p50)),
  p99: median(runs.map((x) => x.p99)),
});

export async function measureStandInOverhead(databaseUrl: string, proxy: string, concurrencies = [1, 10], rounds = 3, ms = 1500) {
  useLocalProxy(proxy);
  const driver = neon(databaseUrl);
  const slash = proxy.indexOf('/');
  const endpoint = `http://${proxy.slice(0, slash)}${proxy.slice(slash)}/sql`;
  // Exactly what neon() sends for `sql.query('select 1')` (its headers and JSON body).
  const headers = { 'Neon-Connection-String': databaseUrl, 'Neon-Raw-Text-Output': 'true', 'Neon-Array-Mode': 'true', 'Content-Type': 'application/json' };
  const body = JSON.stringify({ query: 'select 1', params: [] });
  const probe = new http.Agent({ keepAlive: true });
  const hop = await startHop(await post(endpoint, headers, body, probe));
  probe.destroy();
  const results = [];
  try {
    for (const connections of concurrencies) {
      const pool = new pg.Pool({ connectionString: databaseUrl, max: connections });
      const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
      const ways = {
        direct: () => pool.query('select 1'),
        standIn: () => post(endpoint, headers, body, agent),
        hop: () => post(hop.endpoint, headers, body, agent),
        viaDriver: () => driver.query('select 1'),
      };
      const runs = { direct: [] as Run[], standIn: [] as Run[], hop: [] as Run[], viaDriver: [] as Run[] };
      try {
        for (const once of Object.values(ways)) await closedLoop(connections, 300, once);
        for (let i = 0; i < rounds; i++) {
          for (const [name, once] of Object.entries(ways)) runs[name as keyof typeof runs].push(await closedLoop(connections, ms, once));
        }
      } finally {
        agent.destroy();
        await pool.end();
      }
      const [direct, standIn, floor, viaDriver] = [runs.direct, runs.standIn, runs.hop, runs.viaDriver].map(summary) as [Run, Run, Run, Run];
      results.push({
        connections,
        direct,
        standIn,
        hop: floor,
        viaDriver,
        /** The figure: p50 through the stand-in over p50 direct, − 1. */
        p50Overhead: standIn.p50 / direct.p50 - 1,
        /** The hop alone (no PostgreSQL at all) over p50 direct, − 1: what any extra HTTP exchange costs. */
        hopP50Overhead: floor.p50 / direct.p50 - 1,
        /** The stand-in's own cost above the hop: (standIn − hop) ÷ direct − 1. */
        ownOverhead: (standIn.p50 - floor.p50) / direct.p50 - 1,
        throughputRatio: standIn.perSecond / direct.perSecond,
      });
    }
  } finally {
    await hop.stop();
  }
  return results;
}
