/** For race tests: a transaction of the test's own held open while the Worker runs, and a wait for its lock. */
import { Client } from '@neondatabase/serverless';
import type { Harness } from './harness';

/** A connection of the test's own with a transaction begun, to hold locks while the Worker runs. */
export async function openTransaction(h: Harness) {
  await h.query('select 1'); // points the driver at the local proxy
  const client = new Client({ connectionString: h.databaseUrl });
  client.on('error', () => {});
  await client.connect();
  await client.query('begin');
  return client;
}

/** Resolves once some backend of this database waits for a row lock (the Worker's statement behind ours). */
export async function someoneWaitsForALock(h: Harness) {
  for (let i = 0; i < 100; i++) {
    const rows = await h.query(`select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
    if (rows.length > 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no statement waited for the lock');
}
