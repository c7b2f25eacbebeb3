/**
 * What a request with an API key costs beside the same request with an access token (contract §16): the key is
 * resolved inside the route's own guarded statement, so the difference is the key lookup in SQL (hash → key live →
 * owner enabled → permission held by both) plus the Worker's SHA-256 of the key, against a JWT verification and the
 * session check. Sequential requests, the three kinds interleaved (floor, token, key) so load changes hit all alike;
 * per kind the median latency seen by the client and the mean `db;dur` the Worker reports in Server-Timing (the
 * time of its statements, proxy included), with the statement count, which must be the same for token and key.
 *
 *   npm run bench -- --suite=api-keys [--quick] [--requests=N]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureAdmin } from '../../scripts/admin/ensure-admin';
import { projectRoot } from '../../scripts/dev/migrate';
import { startLiveStack } from '../../scripts/dev/live-stack';
import { median } from '../lib/load';
import { loadAverage } from '../lib/scale';
import { fmt, printTable } from '../lib/table';
import { log } from '../lib/workers';
import type { Suite } from '../lib/suite';

const ADMIN = { email: 'bench-keys@demo.test', name: 'Key Bench', password: 'correct horse battery staple' };

interface Sample { ms: number; dbMs: number; statements: number; status: number }

/** One request; `db;dur` and the statement count from Server-Timing (SERVER_TIMING=true on the live stack). */
async function timed(url: string, authorization?: string): Promise<Sample> {
  const started = performance.now();
  const res = await fetch(url, { headers: authorization ? { authorization } : {} });
  await res.arrayBuffer();
  const ms = performance.now() - started;
  const timing = res.headers.get('server-timing') ?? '';
  const db = /db;dur=([\d.]+);desc="(\d+) statements"/.exec(timing);
  return { ms, dbMs: db ? Number(db[1]) : 0, statements: db ? Number(db[2]) : 0, status: res.status };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main(argv: string[]) {
  const { values } = parseArgs({ args: argv, options: { suite: { type: 'string', multiple: true }, quick: { type: 'boolean', default: false }, requests: { type: 'string' } }, strict: false });
  const n = Number(typeof values.requests === 'string' ? values.requests : values.quick ? 150 : 2000);
  const loadBefore = loadAverage();
  log(`api-keys suite: ${n} requests per kind, load average ${loadBefore}`);
  // No Rate Limiting binding here, so the key's per-minute count is the PostgreSQL fallback, inside the same
  // statement (production counts in the binding instead): part of the SQL measured. Its ceiling is lifted so that
  // thousands of requests a minute measure the lookup, not 429s.
  const stack = await startLiveStack({ API_KEY_RATE_LIMIT_PER_MINUTE: '100000000' });
  try {
    await ensureAdmin(stack.databaseUrl, ADMIN, 'N=1024,r=8,p=1');
    const login = await fetch(`${stack.url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: ADMIN.email, password: ADMIN.password }) });
    const { accessToken } = (await login.json()) as { accessToken: string };
    const me = (await (await fetch(`${stack.url}/v1/me`, { headers: { authorization: `Bearer ${accessToken}` } })).json()) as { id: number };
    const made = await fetch(`${stack.url}/v1/me/api-keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
      body: JSON.stringify({ name: 'bench', permissions: ['users:read', 'roles:read'] }),
    });
    const { key } = (await made.json()) as { key: string };
    const routes = [`/v1/users/${me.id}`, '/v1/roles'];
    const kinds = [
      { name: 'no-op 404 (app floor)', path: () => '/bench-noop', auth: undefined },
      ...routes.flatMap((r) => [
        { name: `GET ${r.replace(/\d+$/, ':id')} (token)`, path: () => r, auth: `Bearer ${accessToken}` },
        { name: `GET ${r.replace(/\d+$/, ':id')} (API key)`, path: () => r, auth: `Bearer ${key}` },
      ]),
    ];
    const samples: Sample[][] = kinds.map(() => []);
    for (let warm = 0; warm < 20; warm++) for (const k of kinds) await timed(stack.url + k.path(), k.auth);
    for (let i = 0; i < n; i++) for (const [j, k] of kinds.entries()) samples[j]!.push(await timed(stack.url + k.path(), k.auth));
    const rows = kinds.map((k, j) => {
      const s = samples[j]!;
      const ok = s.filter((x) => x.status < 400 || k.auth === undefined);
      return { name: k.name, requests: s.length, failed: s.length - ok.length, p50Ms: median(ok.map((x) => x.ms)), dbMeanMs: mean(ok.map((x) => x.dbMs)), statements: median(ok.map((x) => x.statements)) };
    });
    const loadAfter = loadAverage();
    console.log(`\nAPI key vs access token, sequential, ${n} requests per row interleaved (load ${loadBefore} → ${loadAfter}):`);
    printTable(['', 'p50 ms', 'db;dur mean ms', 'statements', 'failed'], rows.map((r) => [r.name, fmt(r.p50Ms, 2), fmt(r.dbMeanMs, 2), String(r.statements), String(r.failed)]));
    for (const r of routes.map((x) => x.replace(/\d+$/, ':id'))) {
      const token = rows.find((x) => x.name === `GET ${r} (token)`)!;
      const withKey = rows.find((x) => x.name === `GET ${r} (API key)`)!;
      console.log(`  ${r}: key − token = ${fmt(withKey.p50Ms - token.p50Ms, 2)} ms p50, ${fmt(withKey.dbMeanMs - token.dbMeanMs, 2)} ms of SQL; statements ${token.statements} vs ${withKey.statements}`);
    }
    const results = join(projectRoot, 'bench', 'results');
    mkdirSync(results, { recursive: true });
    writeFileSync(join(results, 'api-keys.json'), JSON.stringify({ at: new Date().toISOString(), command: `npm run bench -- ${argv.join(' ')}`, load: { before: loadBefore, after: loadAfter }, rows }, null, 2));
  } finally {
    await stack.close();
  }
}

export const apiKeys: Suite = {
  summary: 'a request with an API key beside the same request with an access token: latency, SQL time, statements',
  byDefault: false,
  standalone: main,
};
