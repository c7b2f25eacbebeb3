import { sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type pg from 'pg';
import { recordActivity } from '../../src/lib/activity';
import { csvRow } from '../../src/lib/csv';
import { EXPORT_PAGE } from '../../src/lib/export';
import { roleJson } from '../../src/routes/roles/schema';
import { activeUsersStatement } from '../../src/routes/stats/active-users';
import { overviewStatement } from '../../src/routes/stats/overview';
import { retentionStatement } from '../../src/routes/stats/retention';
import { exportUsersPage } from '../../src/routes/users/export';
import { listUsersQuery } from '../../src/routes/users/list';

/** The statements the analytics bench measures, built exactly as the routes build them. */
export function analyticsCases(): { name: string; sql: SQL }[] {
  return [
    { name: 'overview days=30', sql: overviewStatement(30, 'UTC') },
    { name: 'overview days=30 tz=Europe/Paris', sql: overviewStatement(30, 'Europe/Paris') },
    { name: 'overview days=365', sql: overviewStatement(365, 'UTC') },
    { name: 'active-users days=30', sql: activeUsersStatement(30, 'UTC') },
    { name: 'active-users days=90', sql: activeUsersStatement(90, 'UTC') },
    { name: 'active-users days=90 tz=Europe/Paris', sql: activeUsersStatement(90, 'Europe/Paris') },
    { name: 'active-users days=90 tz=Asia/Kolkata', sql: activeUsersStatement(90, 'Asia/Kolkata') },
    { name: 'retention weeks=12', sql: retentionStatement(12, 'UTC') },
    { name: 'retention weeks=12 tz=Europe/Paris', sql: retentionStatement(12, 'Europe/Paris') },
    { name: 'retention weeks=12 tz=Pacific/Auckland', sql: retentionStatement(12, 'Pacific/Auckland') },
    // Substrings no seeded name or email holds: the 1-2 character candidate plan must not scan every user.
    { name: 'users q=zz (matches nothing)', sql: listUsersQuery({ sort: 'createdAt', q: 'zz', limit: 50 }) },
    { name: 'users q=q (matches nothing)', sql: listUsersQuery({ sort: 'createdAt', q: 'q', limit: 50 }) },
    { name: 'users q=xq -name (matches nothing)', sql: listUsersQuery({ sort: '-name', q: 'xq', limit: 50 }) },
    // A substring common to 11 % of the seeded users whose matches avoid the newest 80 % (docs/worker-cost.md).
    { name: 'users q=user1 (11 %, none among the newest)', sql: listUsersQuery({ sort: '-createdAt', q: 'user1', limit: 50 }) },
    { name: 'roles with user counts', sql: sql`select coalesce(json_agg(${roleJson('r')} order by r.name), '[]'::json) as roles from roles r` },
  ];
}

type Row = { id: number; name: string; email: string; roles: string; disabled: boolean; created_at: string; last_login_at: string | null };

/**
 * Every page of the users export as the route streams it: one keyset statement per page, each page formatted as CSV
 * and dropped before the next is read (as the stream hands it to the client). Heap is sampled after every page.
 */
export async function exportAll(client: pg.Client) {
  const dialect = new PgDialect();
  global.gc?.();
  const startHeap = process.memoryUsage().heapUsed;
  let peakHeap = startHeap;
  let rows = 0;
  let bytes = 0;
  let after = 0;
  const started = performance.now();
  for (;;) {
    const query = dialect.sqlToQuery(exportUsersPage({}, after));
    const page = (await client.query<Row>(query.sql, query.params)).rows;
    const text = page.map((r) => csvRow([r.id, r.name, r.email, r.roles, r.disabled, r.created_at, r.last_login_at])).join('');
    bytes += Buffer.byteLength(text);
    rows += page.length;
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    if (page.length < EXPORT_PAGE) break;
    after = page[page.length - 1]!.id;
  }
  return { rows, bytes, ms: Math.round(performance.now() - started), peakHeap, startHeap };
}

/**
 * The activity write of a sign-in or refresh (recordActivity's CTEs, alone in a statement), for one account, timed
 * inside a transaction that is rolled back so the kept data set does not change: `first` is the account's first
 * activity of the day (every rollup is written), `again` the same account a moment later (the common refresh: the
 * upserts find nothing to change).
 */
export async function activityWrites(client: pg.Client, samples: number) {
  const dialect = new PgDialect();
  const [{ lo, hi }] = (await client.query<{ lo: number; hi: number }>(`select min(id) as lo, max(id) as hi from users`)).rows as [{ lo: number; hi: number }];
  const first: number[] = [];
  const again: number[] = [];
  for (let i = 0; i < samples; i++) {
    const id = lo + Math.floor(Math.random() * (hi - lo + 1));
    const query = dialect.sqlToQuery(sql`with ${recordActivity(sql`select ${id}::int as user_id`)} select 1`);
    await client.query('begin');
    try {
      // A fresh day for this account: its row of today (if the seed made one) goes, within this transaction.
      await client.query(`delete from user_activity where user_id = $1 and day = (now() at time zone 'UTC')::date`, [id]);
      await client.query(`update activity_zone_last set day = day - 1 where user_id = $1`, [id]);
      let t = performance.now();
      await client.query(query.sql, query.params);
      first.push(performance.now() - t);
      t = performance.now();
      await client.query(query.sql, query.params);
      again.push(performance.now() - t);
    } finally {
      await client.query('rollback');
    }
  }
  const zones = Number((await client.query(`select count(*) as n from activity_zones`)).rows[0].n);
  return { zones, first: first.sort((a, b) => a - b), again: again.sort((a, b) => a - b) };
}
