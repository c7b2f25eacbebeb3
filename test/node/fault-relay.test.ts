/** The soak's fault relay (scripts/stand-ins/fault-relay.ts) speaks through the Postgres protocol and cuts where it says. */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultRelay } from '../../scripts/stand-ins/fault-relay';
import { freePort, startPostgres, type RunningPostgres } from '../../scripts/dev/postgres';

let root: string;
let postgres: RunningPostgres;
const password = randomBytes(8).toString('hex');
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'relay-test-'));
  chmodSync(root, 0o755);
  postgres = await startPostgres({ dataDir: join(root, 'pgdata'), port: await freePort(), password, fast: true });
  await direct('create table t (v text)');
}, 60_000);
afterAll(async () => {
  await postgres?.stop();
  rmSync(root, { recursive: true, force: true });
});

async function direct(text: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: postgres.url('postgres') });
  await client.connect();
  try {
    return (await client.query(text, params)).rows;
  } finally {
    await client.end();
  }
}

async function through(port: number, text: string, params: unknown[]) {
  const client = new pg.Client({ connectionString: `postgres://postgres:${password}@127.0.0.1:${port}/postgres` });
  client.on('error', () => {});
  await client.connect();
  try {
    return await client.query(text, params);
  } finally {
    await client.end().catch(() => {});
  }
}

describe('the fault relay', () => {
  it('relays every statement when no connection is doomed', async () => {
    const relay = await startFaultRelay({ upstreamPort: postgres.port, dropShare: 0 });
    try {
      for (let i = 0; i < 5; i++) expect((await through(relay.port, 'select $1::int as n', [i])).rows).toEqual([{ n: i }]);
      expect(relay.stats).toMatchObject({ connections: 5, dropped: 0 });
    } finally {
      await relay.close();
    }
  });

  it('rolls the dice per statement: a statement on a connection in use for a while can be cut too', async () => {
    const relay = await startFaultRelay({ upstreamPort: postgres.port, dropShare: 0, maxDelayMs: 0 });
    const client = new pg.Client({ connectionString: `postgres://postgres:${password}@127.0.0.1:${relay.port}/postgres` });
    client.on('error', () => {});
    try {
      await client.connect();
      for (let i = 0; i < 3; i++) expect((await client.query('select $1::int as n', [i])).rows).toEqual([{ n: i }]);
      relay.dropShare = 1;
      await expect(client.query('insert into t values ($1)', ['late-cut'])).rejects.toThrow();
      expect(relay.stats).toMatchObject({ connections: 1, statements: 4, dropped: 1 });
    } finally {
      await client.end().catch(() => {});
      await relay.close();
    }
  });

  it('cut after Execute: the client fails and the change is rolled back', async () => {
    // random() = 0.9: doomed (0.9 < 1) and not through the Sync (0.9 ≥ 0.5).
    const relay = await startFaultRelay({ upstreamPort: postgres.port, dropShare: 1, random: () => 0.9, maxDelayMs: 0 });
    try {
      await expect(through(relay.port, 'insert into t values ($1)', ['rolled-back'])).rejects.toThrow();
      expect(relay.stats.dropped).toBe(1);
      await new Promise((r) => setTimeout(r, 200));
      expect(await direct(`select v from t where v = 'rolled-back'`)).toEqual([]);
    } finally {
      await relay.close();
    }
  });

  it('cut after the Sync: the client fails but the change committed', async () => {
    // random() = 0: doomed and through the Sync.
    const relay = await startFaultRelay({ upstreamPort: postgres.port, dropShare: 1, random: () => 0, maxDelayMs: 0 });
    try {
      await expect(through(relay.port, 'insert into t values ($1) returning pg_sleep(0.05)', ['committed'])).rejects.toThrow();
      await new Promise((r) => setTimeout(r, 300));
      expect(await direct(`select v from t where v = 'committed'`)).toEqual([{ v: 'committed' }]);
    } finally {
      await relay.close();
    }
  });

  it('refuses the client when the server is down, and counts it', async () => {
    const relay = await startFaultRelay({ upstreamPort: await freePort(), dropShare: 0 });
    try {
      await expect(through(relay.port, 'select 1', [])).rejects.toThrow();
      expect(relay.stats.upstreamRefused).toBe(1);
    } finally {
      await relay.close();
    }
  });
});
