import { sql, type SQL } from 'drizzle-orm';
import type { Config } from '../env';

/**
 * The §3 sign-in lockout, keyed like POST /v1/auth/login keys it: the SHA-256 of the normalised email, computed here
 * in SQL from the account's stored (lower-case) email, so statements that only know the user id share its counter.
 */
export const emailHash = (email: SQL) => sql`sha256(convert_to(${email}, 'UTF8'))`;

/** The body of a CTE that lifts the lockout of `email` (a reset, an admin's unlock). */
export const clearLockout = (email: SQL, from: SQL) =>
  sql`delete from login_throttle where email_hash in (select ${emailHash(email)} from ${from})`;

/**
 * CTE `slot` of a statement that checks a password for an account already known by id (e.g. POST /v1/me/password):
 * reserves one attempt in the same counter sign-in uses, refused (no row) when LOGIN_MAX_FAILURES failures lie
 * within the window. `source` has `email`. Returns the slot's timestamp (to release it on success) and, from
 * `retryAfter`, the seconds until the lock lifts.
 */
export function reserveAttempt(config: Config, source: string): { ctes: SQL; retryAfter: SQL } {
  const window = sql`make_interval(secs => ${config.LOGIN_WINDOW_SECONDS})`;
  const from = sql.raw(source);
  return {
    ctes: sql`slot as (
      insert into login_throttle as t (email_hash, attempts) select ${emailHash(sql`email`)}, array[clock_timestamp()] from ${from}
      on conflict (email_hash) do update
        set attempts = array(select a from unnest(t.attempts) a where a > now() - ${window}) || clock_timestamp()
        where (select count(*) from unnest(t.attempts) a where a > now() - ${window}) < ${config.LOGIN_MAX_FAILURES}
      returning attempts[cardinality(attempts)]::text as slot
    )`,
    retryAfter: sql`(select ceil(extract(epoch from min(a) + ${window} - now()))::int
      from login_throttle t, unnest(t.attempts) a
      where t.email_hash in (select ${emailHash(sql`email`)} from ${from}) and a > now() - ${window})`,
  };
}

/** The body of a CTE that gives a reserved attempt back (the password was right). */
export const releaseAttempt = (slot: string, email: SQL) =>
  sql`update login_throttle set attempts = array_remove(attempts, ${slot}::timestamptz) where email_hash = ${emailHash(email)}`;
