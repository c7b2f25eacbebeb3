import { sql, type SQL } from 'drizzle-orm';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../env';
import { clientIp, rateLimitKey } from '../lib/client-ip';
import { tooManyRequests } from '../lib/errors';

export const WINDOW_SECONDS = 60;
const windowStart = sql`date_bin('${sql.raw(String(WINDOW_SECONDS))} seconds', now(), 'epoch')`;

/**
 * The CTEs `<name>_purge` and `<name>`: one hit on the fixed one-minute window of `key` (SQL text; no hit when it is
 * null), an upsert that also purges the key's older windows. `<name>` answers `hits` and `retry_after` (seconds to
 * the window's end). Used alone (below) and inside a guarded statement (API keys, src/auth/authorize.ts).
 */
export function countHit(name: string, key: SQL): SQL {
  const n = sql.raw(name);
  return sql`${n}_purge as (
      delete from rate_limits where key = ${key} and window_start < ${windowStart}
    ), ${n} as (
      insert into rate_limits as r (key, window_start, hits)
      select k, ${windowStart}, 1 from (select ${key} as k) hit where k is not null
      on conflict (key, window_start) do update set hits = r.hits + 1
      returning hits, ceil(extract(epoch from window_start + make_interval(secs => ${WINDOW_SECONDS}) - now()))::int as retry_after
    )`;
}

/**
 * Per-IP limit on an expensive public route (sign-up, sign-in, refresh). On Cloudflare the Rate Limiting binding
 * counts at the edge for free; where it is absent (another host, a test) a fixed one-minute window is counted in
 * PostgreSQL, one upsert that also purges the key's older windows.
 */
export const rateLimit = (route: string) =>
  createMiddleware<AppEnv>(async (c, next) => {
    // Only an address a trusted party vouches for (src/lib/client-ip.ts); a header the client set is no key.
    const key = `${route}:${rateLimitKey(clientIp(c))}`;
    const limiter = c.env.AUTH_RATE_LIMITER;
    if (limiter) {
      const { success } = await limiter.limit({ key });
      if (!success) throw tooManyRequests(WINDOW_SECONDS, 'Too many requests from this address; try again later.');
      return next();
    }
    const limit = c.var.config.RATE_LIMIT_PER_MINUTE;
    const result = await c.var.db.execute<{ hits: number; retry_after: number }>(
      sql`with ${countHit('hit', sql`${key}::text`)} select hits, retry_after from hit`,
    );
    const row = result.rows[0]!;
    if (row.hits > limit) throw tooManyRequests(row.retry_after, 'Too many requests from this address; try again later.');
    await next();
  });
