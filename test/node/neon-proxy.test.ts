/**
 * The local stand-in for Neon's proxy (scripts/stand-ins/neon-proxy/index.ts), driven by @neondatabase/serverless itself from
 * Node: `neon()` over HTTP, `Client` over WebSocket, against a real PostgreSQL. Fidelity (both protocols give the
 * driver the same values), the wire format, errors, batches, and what it refuses.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, neon, neonConfig, NeonDbError } from '@neondatabase/serverless';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { useLocalProxy } from '../../src/db/client';
import { startProxy, targetOf, type RunningProxy } from '../../scripts/stand-ins/neon-proxy';
import { freePort, startPostgres, type RunningPostgres } from '../../scripts/dev/postgres';

let root: string;
let postgres: RunningPostgres;
let proxy: RunningProxy;
let url: string;
let base: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'neon-proxy-test-'));
  chmodSync(root, 0o755);
  postgres = await startPostgres({ dataDir: join(root, 'pgdata'), port: await freePort(), password: randomBytes(8).toString('hex'), fast: true });
  url = postgres.url('postgres');
  proxy = await startProxy({ target: targetOf(url) });
  base = `http://127.0.0.1:${proxy.port}/${proxy.secret}`;
  neonConfig.webSocketConstructor = WebSocket;
  useLocalProxy(proxy.address);
  await direct(`create table if not exists items (id int primary key, note text)`);
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await postgres?.stop();
  rmSync(root, { recursive: true, force: true });
});

async function direct(text: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows;
  } finally {
    await client.end();
  }
}

async function overWebSocket(text: string, params: unknown[] = []) {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows;
  } finally {
    await client.end();
  }
}

const post = (body: unknown, headers: Record<string, string> = {}, path = '/sql') =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'Neon-Connection-String': url, 'Neon-Raw-Text-Output': 'true', 'Neon-Array-Mode': 'true', ...headers },
    body: JSON.stringify(body),
  });

const VALUES = `select 1::int as i, 9007199254740993::bigint as big, 1.50::numeric(4,2) as n, true as b, false as f,
  null::text as nothing, ''::text as empty, 'tab\there "quoted" \\ back'::text as t, 'ünï 😀'::text as unicode,
  '{"a":[1,null,"x"],"b":{"c":true}}'::json as j, '{"z":1,"a":2}'::jsonb as jb,
  array[1,2,3]::int[] as ints, array['a',null,'b,c','"q"']::text[] as texts, array[[1,2],[3,4]]::int[] as matrix,
  '{}'::int[] as none, '2026-01-02 03:04:05.678+00'::timestamptz as at, '2026-01-02 03:04:05'::timestamp as local,
  '2026-02-28'::date as day, '1 day 02:03:04'::interval as span, '\\x00ff10'::bytea as bytes,
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid as id, 3.25::float8 as dbl, 'NaN'::float8 as nan,
  '127.0.0.1/32'::inet as addr`;

describe('fidelity: the driver reads the same values over HTTP as over WebSocket', () => {
  it('for scalars, nulls, text escapes, json, arrays, timestamps, bytea', async () => {
    const sql = neon(url);
    const [http] = (await sql.query(VALUES)) as Record<string, unknown>[];
    const [ws] = await overWebSocket(VALUES);
    expect(http).toEqual(ws);
    expect(http).toMatchObject({
      i: 1,
      big: '9007199254740993',
      n: '1.50',
      b: true,
      f: false,
      nothing: null,
      empty: '',
      t: 'tab\there "quoted" \\ back',
      unicode: 'ünï 😀',
      j: { a: [1, null, 'x'], b: { c: true } },
      jb: { a: 2, z: 1 },
      ints: [1, 2, 3],
      texts: ['a', null, 'b,c', '"q"'],
      matrix: [[1, 2], [3, 4]],
      none: [],
      dbl: 3.25,
      nan: NaN,
    });
    expect(Buffer.from(http!.bytes as Uint8Array)).toEqual(Buffer.from([0, 255, 16]));
    expect((http!.at as Date).toISOString()).toBe('2026-01-02T03:04:05.678Z');
  });

  it('for parameters of every kind the driver encodes', async () => {
    const sql = neon(url);
    const params = ['ü $1 \'', null, 42, true, [1, 2, null], { k: ['v'] }, Buffer.from([1, 2, 3]), new Date('2026-03-04T05:06:07Z')];
    const text = `select $1::text as t, $2::text as n, $3::int as i, $4::bool as b, $5::int[] as a, $6::jsonb as j, $7::bytea as y,
                         $8::timestamptz as d`;
    const [http] = (await sql.query(text, params)) as Record<string, unknown>[];
    const [ws] = await overWebSocket(text, params);
    expect(http).toEqual(ws);
    expect(http).toMatchObject({ t: 'ü $1 \'', n: null, i: 42, b: true, a: [1, 2, null], j: { k: ['v'] } });
    expect(Buffer.from(http!.y as Uint8Array)).toEqual(Buffer.from([1, 2, 3]));
  });

  it('answers the wire format the driver parses: text values, fields with type ids, command and counts', async () => {
    const res = await post({ query: 'select 1 as one, null::text as none, $1::int + 1 as two', params: ['1'] });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = await res.json();
    expect(body).toMatchObject({
      command: 'SELECT',
      rowCount: 1,
      rows: [['1', null, '2']],
      rowAsArray: true,
      fields: [
        { name: 'one', dataTypeID: 23 },
        { name: 'none', dataTypeID: 25 },
        { name: 'two', dataTypeID: 23 },
      ],
    });
    const objects = await post({ query: 'select 1 as one', params: [] }, { 'Neon-Array-Mode': 'false' });
    expect(((await objects.json()) as { rows: unknown }).rows).toEqual([{ one: '1' }]);
    const insert = await post({ query: 'insert into items values ($1, $2), ($3, $4)', params: ['900', 'a', '901', null] });
    expect(await insert.json()).toMatchObject({ command: 'INSERT', rowCount: 2, rows: [] });
  });

  it('refuses several statements in one query, as the extended protocol does', async () => {
    const res = await post({ query: 'select 1; select 2', params: [] });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe('42601');
  });
});

describe('errors carry the PostgreSQL fields the driver maps', () => {
  it('as a 400 with SQLSTATE, detail, constraint, table', async () => {
    await direct(`insert into items values (1, 'first') on conflict do nothing`);
    const res = await post({ query: 'insert into items values ($1, $2)', params: ['1', 'again'] });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      message: 'duplicate key value violates unique constraint "items_pkey"',
      code: '23505',
      severity: 'ERROR',
      detail: 'Key (id)=(1) already exists.',
      constraint: 'items_pkey',
      table: 'items',
      schema: 'public',
    });
    const error = await neon(url).query('insert into items values (1, $1)', ['x']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NeonDbError);
    expect(error).toMatchObject({ code: '23505', constraint: 'items_pkey' });
  });

  it('for custom SQLSTATEs raised by triggers and functions', async () => {
    const error = await neon(url)
      .query(`do $$ begin raise exception 'the last admin' using errcode = 'P0A01', hint = 'keep one'; end $$`)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'P0A01', message: 'the last admin', hint: 'keep one' });
  });

  it('for a wrong password or an unknown database', async () => {
    const wrong = new URL(url);
    wrong.password = 'wrong';
    expect(await neon(wrong.toString()).query('select 1').catch((e: unknown) => e)).toMatchObject({ code: '28P01' });
    const none = new URL(url);
    none.pathname = '/nope';
    expect(await neon(none.toString()).query('select 1').catch((e: unknown) => e)).toMatchObject({ code: '3D000' });
  });

  it('with a position for syntax errors', async () => {
    const error = await neon(url).query('select * fro items').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: '42601', position: expect.any(String) });
  });
});

describe('batches run as one transaction', () => {
  it('commit together', async () => {
    const sql = neon(url);
    const results = await sql.transaction([sql`insert into items values (10, 'x') returning id`, sql`select count(*)::int as n from items where id = 10`]);
    expect(results).toEqual([[{ id: 10 }], [{ n: 1 }]]);
    const raw = await post({ queries: [{ query: 'select 1', params: [] }, { query: 'select $1::text', params: ['b'] }] });
    expect(((await raw.json()) as { results: { rows: unknown[] }[] }).results.map((r: { rows: unknown[] }) => r.rows)).toEqual([[['1']], [['b']]]);
  });

  it('fail together: a later error rolls back the earlier statements', async () => {
    const sql = neon(url);
    const error = await sql.transaction([sql`insert into items values (20, 'kept?')`, sql`insert into items values (20, 'dup')`]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: '23505' });
    expect(await direct('select * from items where id = 20')).toEqual([]);
  });

  it('honour the isolation, read-only and deferrable headers', async () => {
    const sql = neon(url);
    const shown = (await sql.transaction(
      [sql`show transaction_isolation`, sql`show transaction_read_only`, sql`show transaction_deferrable`],
      { isolationLevel: 'Serializable', readOnly: true, deferrable: true },
    )) as Record<string, string>[][];
    expect(shown).toEqual([[{ transaction_isolation: 'serializable' }], [{ transaction_read_only: 'on' }], [{ transaction_deferrable: 'on' }]]);
    const write = await sql.transaction([sql`insert into items values (30, 'no')`], { readOnly: true }).catch((e: unknown) => e);
    expect(write).toMatchObject({ code: '25006' });
  });

  it('never leave a pooled connection inside a transaction', async () => {
    const sql = neon(url);
    await sql.query('begin');
    await sql.query('begin');
    const [row] = (await sql.query(`select count(*)::int as n from pg_stat_activity where state like 'idle in transaction%'`)) as { n: number }[];
    expect(row!.n).toBe(0);
  });
});

describe('refusals', () => {
  it('listens on loopback only', () => {
    expect(proxy.address).toMatch(new RegExp(`^127\\.0\\.0\\.1:${proxy.port}/[0-9a-f]{48}$`));
  });

  it('refuses a request without the secret, with a wrong one, or on another path', async () => {
    const init = { method: 'POST', headers: { 'Neon-Connection-String': url }, body: '{"query":"select 1","params":[]}' };
    expect((await fetch(`http://127.0.0.1:${proxy.port}/sql`, init)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${proxy.port}/${'0'.repeat(48)}/sql`, init)).status).toBe(404);
    expect((await fetch(`${base}/control`, init)).status).toBe(404);
    expect((await fetch(`${base}/sql`, { ...init, method: 'GET', body: undefined })).status).toBe(405);
  });

  it('refuses browser-originated requests (an Origin header), on both paths', async () => {
    const res = await post({ query: 'select 1', params: [] }, { Origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect(await wsOutcome(`/v1?address=127.0.0.1:${postgres.port}`, { origin: 'https://evil.example' })).toBe(403);
  });

  it('refuses any other database address, on both paths', async () => {
    for (const other of [`127.0.0.1:${postgres.port + 1}`, '10.0.0.1:5432', `example.com:${postgres.port}`]) {
      const connectionString = url.replace(`127.0.0.1:${postgres.port}`, other);
      const res = await post({ query: 'select 1', params: [] }, { 'Neon-Connection-String': connectionString });
      expect(res.status).toBe(403);
      expect(await wsOutcome(`/v1?address=${other}`)).toBe(403);
    }
    expect(await wsOutcome(`/v1?address=127.0.0.1:${postgres.port}`, {}, '')).toBe(404);
  });

  it('accepts the WebSocket path with the secret and the right address', async () => {
    expect(await overWebSocket('select 41 + 1 as n')).toEqual([{ n: 42 }]);
  });
});

describe('latency model and faults', () => {
  it('charges one round trip per request on a kept-alive connection, and delays it by the RTT', async () => {
    const sql = neon(url);
    await sql.query('select 1');
    proxy.setRtt(60);
    try {
      const before = proxy.stats();
      const started = performance.now();
      await sql.query('select 1');
      const elapsed = performance.now() - started;
      const after = proxy.stats();
      expect(elapsed).toBeGreaterThanOrEqual(55);
      expect(after.httpRequests - before.httpRequests).toBe(1);
      expect(after.roundTrips - before.roundTrips).toBe(after.httpConnections - before.httpConnections === 0 ? 1 : 3);
    } finally {
      proxy.setRtt(0);
    }
  });

  it('counts a WebSocket query as set-up (3) plus its pipelined exchange', async () => {
    const before = proxy.stats().roundTrips;
    await overWebSocket('select 1');
    // TCP + TLS + upgrade, then startup + password + query pipelined: one more (two if the server asks twice).
    expect(proxy.stats().roundTrips - before).toBeGreaterThanOrEqual(4);
  });

  it('drops answers of statements that ran ("answer"), or cuts the backend mid-statement ("backend")', async () => {
    proxy.setFaults({ dropShare: 1, mode: 'answer' });
    try {
      const lost = await neon(url).query(`insert into items values (40, 'ran')`).catch((e: unknown) => e);
      expect(lost).toBeInstanceOf(Error);
      expect(await direct('select note from items where id = 40')).toEqual([{ note: 'ran' }]);
      proxy.setFaults({ dropShare: 1, mode: 'backend' });
      const cut = await neon(url).query(`insert into items select 41, 'cut' from pg_sleep(0.2)`).catch((e: unknown) => e);
      expect(cut).toBeInstanceOf(Error);
      expect(await direct('select note from items where id = 41')).toEqual([]);
    } finally {
      proxy.setFaults(undefined);
    }
    expect(await neon(url).query('select 1 as ok')).toEqual([{ ok: 1 }]);
  });
});

describe('control path (benchmark and soak runs in another process)', () => {
  it('answers the counters and changes RTT and faults while running, only when enabled and with the secret', async () => {
    const controlled = await startProxy({ target: targetOf(url), control: true });
    try {
      const control = `http://127.0.0.1:${controlled.port}/${controlled.secret}/control`;
      expect(await (await fetch(control)).json()).toEqual({ roundTrips: 0, httpRequests: 0, httpConnections: 0, wsConnections: 0 });
      const set = await fetch(control, { method: 'POST', body: JSON.stringify({ rttMs: 30, faults: { dropShare: 0 } }) });
      expect(set.status).toBe(200);
      expect((await fetch(control, { method: 'POST', body: '{"rttMs":-1}' })).status).toBe(400);
      expect((await fetch(control, { method: 'POST', body: 'not json' })).status).toBe(400);
      expect((await fetch(`http://127.0.0.1:${controlled.port}/control`)).status).toBe(404);
      expect((await fetch(control, { headers: { Origin: 'https://evil.example' } })).status).toBe(403);
    } finally {
      await controlled.close();
    }
  });
});

/** The HTTP status a WebSocket upgrade gets (101 when accepted). */
function wsOutcome(path: string, headers: Record<string, string> = {}, secret = `/${proxy.secret}`): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}${secret}${path}`, { headers });
    ws.on('upgrade', () => (ws.terminate(), resolve(101)));
    ws.on('unexpected-response', (_req, res) => (ws.terminate(), resolve(res.statusCode ?? 0)));
    ws.on('error', () => resolve(0));
  });
}
