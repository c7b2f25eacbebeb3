import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../src/db/client';
import { isDatabaseUnavailable, sqlState } from '../src/lib/db-errors';
import { createHarness, query, type Harness } from './harness';

let h: Harness;
let runaway: string;
const runawayDb = `runaway_${crypto.randomUUID().slice(0, 8)}`;
beforeAll(async () => {
  h = await createHarness();
  // A short statement_timeout set the way production sets it: on the role (here only in a database of its own),
  // never at connect, which neither the HTTP path nor PgBouncer allows.
  await h.query(`create database ${runawayDb}`);
  await h.query(`alter role current_user in database ${runawayDb} set statement_timeout = '200ms'`);
  const url = new URL(h.databaseUrl);
  url.pathname = `/${runawayDb}`;
  runaway = url.toString();
});
afterAll(async () => {
  await h.drop();
  await query(h.env.TEST_PG_URL, `drop database if exists ${runawayDb} with (force)`);
});

const config = (overrides: { DATABASE_URL?: string; DB_QUERY_TIMEOUT_MS?: number } = {}) => ({
  DATABASE_URL: h.databaseUrl,
  DB_PROXY: h.env.DB_PROXY,
  DB_TRANSPORT: 'http' as const,
  DB_CONNECT_TIMEOUT_MS: 2000,
  DB_QUERY_TIMEOUT_MS: 15_000,
  ...overrides,
});

describe.each(['http', 'websocket'] as const)('over %s', (transport) => {
  it('runs under the role statement_timeout, and a runaway statement is stopped (503, not 500)', async () => {
    const normal = createDb(config(), transport);
    const shown = await normal.db.execute<{ statement_timeout: string }>(sql`show statement_timeout`);
    expect(shown.rows[0]!.statement_timeout).toBe('10s');
    await normal.close();

    const { db, close } = createDb(config({ DATABASE_URL: runaway }), transport);
    try {
      const started = Date.now();
      const error = await db.execute(sql`select pg_sleep(3)`).catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(2500);
      expect(sqlState(error)).toBe('57014');
      expect(isDatabaseUnavailable(error)).toBe(true);
    } finally {
      await close();
    }
  });

  it('surfaces the SQLSTATE of a failed statement (the routes map P0A01 and 23505 to 409)', async () => {
    const { db, close } = createDb(config(), transport);
    try {
      const raised = await db.execute(sql`do $$ begin raise exception 'last admin' using errcode = 'P0A01'; end $$`).catch((e: unknown) => e);
      expect(sqlState(raised)).toBe('P0A01');
      expect(isDatabaseUnavailable(raised)).toBe(false);
      const duplicate = await db.execute(sql`insert into roles (name, description) select name, description from roles limit 1`).catch((e: unknown) => e);
      expect(sqlState(duplicate)).toBe('23505');
      const syntax = await db.execute(sql`selec 1`).catch((e: unknown) => e);
      expect(sqlState(syntax)).toBe('42601');
    } finally {
      await close();
    }
  });

  it('answers rows with the same types either way', async () => {
    const { db, close } = createDb(config(), transport);
    try {
      const result = await db.execute<Record<string, unknown>>(sql`
        select 1::int as i, 2::bigint as big, 1.5::numeric as n, true as b, null::text as nothing, 'x'::text as t,
               '{"a":[1,null]}'::json as j, array[1,2]::int[] as ints, array['a',null]::text[] as texts,
               '2026-01-02T03:04:05.678Z'::timestamptz as at, '\\x0102'::bytea as bytes, ${'ü $1'}::text as param`);
      expect(result.rows[0]).toEqual({
        i: 1,
        big: '2',
        n: '1.5',
        b: true,
        nothing: null,
        t: 'x',
        j: { a: [1, null] },
        ints: [1, 2],
        texts: ['a', null],
        at: expect.stringMatching(/^2026-01-02 03:04:05\.678\+00|^2026-01-0[12] /),
        bytes: expect.anything(),
        param: 'ü $1',
      });
    } finally {
      await close();
    }
  });
});

it('counts every statement a request sends over HTTP', async () => {
  const handle = createDb(config(), 'http');
  await handle.db.execute(sql`select 1`);
  await handle.db.execute(sql`select 2`);
  expect(handle.statements()).toBe(2);
});

it('counts every statement over WebSocket, transactions included', async () => {
  const handle = createDb(config(), 'websocket');
  try {
    await handle.db.execute(sql`select 1`);
    await handle.db.transaction(async (tx) => {
      await tx.execute(sql`select 2`);
    });
    expect(handle.statements()).toBe(4);
  } finally {
    await handle.close();
  }
});

it('reports a connection refused by the database (wrong password) with its SQLSTATE over HTTP', async () => {
  const wrong = new URL(h.databaseUrl);
  wrong.password = 'wrong';
  const { db } = createDb(config({ DATABASE_URL: wrong.toString() }), 'http');
  const error = await db.execute(sql`select 1`).catch((e: unknown) => e);
  // PostgreSQL says 28P01; PgBouncer (the pooled profile) answers for it with 08P01.
  expect(sqlState(error)).toMatch(/^(28P01|08P01)$/);
});
