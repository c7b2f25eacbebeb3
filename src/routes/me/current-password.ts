import { sql } from 'drizzle-orm';
import type { Context } from 'hono';
import { guarded } from '../../auth/authorize';
import { reserveAttempt } from '../../auth/lockout';
import { verifyPassword } from '../../auth/password';
import type { AppEnv } from '../../env';
import { tooManyRequests, unauthorized } from '../../lib/errors';

/**
 * The first statement of a /v1/me route that takes the current password: loads the caller's hash and reserves an
 * attempt in the sign-in lockout of the caller's email (§3), then verifies in the Worker. Locked → 429 before any
 * hashing; wrong → 401, and the attempt stays counted as a failure. On success the caller's next statement gives the
 * attempt back with `releaseAttempt(slot, …)`.
 */
export async function checkCurrentPassword(c: Context<AppEnv>, password: string): Promise<{ stored: string; slot: string; email: string }> {
  const config = c.var.config;
  const lock = reserveAttempt(config, 'me');
  const row = await guarded<{ hashed_password: string | null; email: string | null; slot: string | null; retry_after: number | null }>(c, (g) => sql`
    with ${g.cte},
    me as (select id, email, hashed_password from users where id = ${g.id} and ${g.ok}),
    ${lock.ctes}
    select ${g.outcome}, (select hashed_password from me) as hashed_password, (select email from me) as email,
      (select slot from slot) as slot, ${lock.retryAfter} as retry_after`);
  if (!row.hashed_password || !row.email) throw unauthorized('The account behind this token no longer exists.');
  if (row.slot === null) {
    throw tooManyRequests(row.retry_after ?? config.LOGIN_WINDOW_SECONDS, 'Too many failed password attempts for this account; try again later.');
  }
  if (!(await verifyPassword(password, row.hashed_password))) throw unauthorized('The current password is wrong.');
  return { stored: row.hashed_password, slot: row.slot, email: row.email };
}
