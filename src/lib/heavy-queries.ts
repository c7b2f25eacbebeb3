import { sql, type SQL } from 'drizzle-orm';
import type { Context } from 'hono';
import type { Guard } from '../auth/authorize';
import type { AppEnv } from '../env';

/**
 * At most HEAVY_QUERIES_PER_CALLER heavy analytics statements per caller at once (issue 20, item 5): the stats
 * routes' mask scans in untracked zones, §14 event queries. `query` (a scalar sub-select of the guarded statement) runs
 * only after the caller check passed and a slot was taken; the slot is a transaction-level advisory lock
 * (heavy_query_slot(), drizzle/0021_hardening.sql), so it lasts exactly as long as the statement's transaction and
 * costs no round trip. Every slot taken: the statement raises and the route answers 429 with Retry-After
 * (src/auth/authorize.ts). The caller is the account (an API key counts as its owner, so its keys share the limit).
 *
 * Use: `with ${g.cte} select ${g.outcome}, (${heavyQuery(c, g, sql`select …`)}) as data`.
 */
export function heavyQuery(c: Context<AppEnv>, g: Guard, query: SQL): SQL {
  const slot = sql`heavy_query_slot(${`user:${c.var.caller.id}`}, ${c.var.config.HEAVY_QUERIES_PER_CALLER}::int)`;
  // CASE evaluates in order: the caller check (which raises 401/403) first, then the slot, then the query.
  return sql`select case when not ${g.ok} then null when ${slot} then (${query}) end`;
}

/** Seconds a refused caller is told to wait: heavy statements take seconds, not minutes (statement_timeout). */
export const HEAVY_QUERY_RETRY_SECONDS = 5;
