/**
 * `npx tsx bench/explain-users.ts <database-url> [q] [sort]`: EXPLAIN (ANALYZE, BUFFERS) of the statement
 * `GET /v1/users?q=…` runs (src/routes/users/list.ts, without the authorization wrapper every guarded statement
 * gets), run three times so the last plan is the warm one. For the seeded demo data: `npm run db:seed-demo`.
 */
import { PgDialect } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { listUsersQuery } from '../src/routes/users/list';
import type { Sort } from '../src/routes/users/schema';

const [url, q = 'user1', sort = '-createdAt'] = process.argv.slice(2);
if (!url) throw new Error('usage: npx tsx bench/explain-users.ts <database-url> [q] [sort]');
const query = new PgDialect().sqlToQuery(listUsersQuery({ sort: sort as Sort, q, limit: 50 }));
const client = new pg.Client({ connectionString: url });
await client.connect();
try {
  let plan: string[] = [];
  for (let i = 0; i < 3; i++) {
    const result = await client.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${query.sql}`, query.params);
    plan = result.rows.map((r) => r['QUERY PLAN']);
  }
  console.log(plan.join('\n'));
} finally {
  await client.end();
}
