import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDb } from '../src/db/client';
import { isDatabaseUnavailable } from '../src/lib/db-errors';
import { createHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.drop());

const config = (overrides: { DB_STATEMENT_TIMEOUT_MS?: number } = {}) => ({
  DATABASE_URL: h.databaseUrl,
  DB_PROXY: h.env.DB_PROXY,
  DB_CONNECT_TIMEOUT_MS: 2000,
  DB_STATEMENT_TIMEOUT_MS: 10_000,
  ...overrides,
});

it('sets a statement timeout on every connection, so no query runs unbounded', async () => {
  const { db, close } = createDb(config({ DB_STATEMENT_TIMEOUT_MS: 200 }));
  try {
    const shown = await db.execute<{ statement_timeout: string }>(sql`show statement_timeout`);
    expect(shown.rows[0]!.statement_timeout).toBe('200ms');
    const error = await db.execute(sql`select pg_sleep(2)`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    // A cancelled statement is reported as the database being unavailable (503), not as a bug (500).
    expect(isDatabaseUnavailable(error)).toBe(true);
  } finally {
    await close();
  }
});

it('counts every statement a request sends, transactions included', async () => {
  const handle = createDb(config());
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
