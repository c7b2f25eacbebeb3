import { sql, type SQL } from 'drizzle-orm';
import type { Config } from '../env';

/**
 * The §3 lockout, shared by every step that checks a secret for an email (password, second-factor code): one
 * login_throttle row per email hash holding the times of recent attempts. An attempt reserves a slot before any
 * secret is checked (the upsert serialises concurrent attempts, so no burst gets more than LOGIN_MAX_FAILURES
 * checks per window); a failure keeps its slot, a success gives it back.
 */
const windowOf = (config: Config) => sql`make_interval(secs => ${config.LOGIN_WINDOW_SECONDS})`;

/**
 * An `insert … on conflict do update` for a CTE: reserves a slot for the email whose key (bytea) is `key`, read
 * from `from` when given. Returns one row `slot` (the slot's timestamp as text), or none while the email is locked.
 */
export function reserveAttempt(config: Config, key: SQL, from?: SQL): SQL {
  const window = windowOf(config);
  return sql`insert into login_throttle as t (email_hash, attempts) select ${key}, array[clock_timestamp()] ${from ? sql`from ${from}` : sql``}
    on conflict (email_hash) do update
      set attempts = array(select a from unnest(t.attempts) a where a > now() - ${window}) || clock_timestamp()
      where (select count(*) from unnest(t.attempts) a where a > now() - ${window}) < ${config.LOGIN_MAX_FAILURES}
    returning attempts[cardinality(attempts)]::text as slot`;
}

/** Seconds until the oldest failure in the window leaves it (a scalar for the select list), as of the snapshot. */
export function retryAfter(config: Config, key: SQL): SQL {
  const window = windowOf(config);
  return sql`(select ceil(extract(epoch from min(a) + ${window} - now()))::int
    from login_throttle t, unnest(t.attempts) a where t.email_hash = ${key} and a > now() - ${window})`;
}

/** Whether the email is locked now (as of the snapshot): LOGIN_MAX_FAILURES attempts within the window. */
export function isLocked(config: Config, key: SQL): SQL {
  const window = windowOf(config);
  return sql`coalesce((select count(*) >= ${config.LOGIN_MAX_FAILURES} from login_throttle t, unnest(t.attempts) a
    where t.email_hash = ${key} and a > now() - ${window}), false)`;
}

/** An `update` for a CTE: gives a reserved slot back (the attempt succeeded), when `when` (SQL boolean) holds. */
export function releaseAttempt(key: SQL, slot: string, when: SQL = sql`true`): SQL {
  return sql`update login_throttle set attempts = array_remove(attempts, ${slot}::timestamptz) where email_hash = ${key} and ${when}`;
}

/** The login_throttle key of an account's email, computed in SQL (emails are stored trimmed and lower-cased). */
export const emailKey = (email: SQL) => sql`sha256(convert_to(${email}, 'UTF8'))`;
