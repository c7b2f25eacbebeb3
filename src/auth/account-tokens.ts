import { sql, type SQL } from 'drizzle-orm';
import { newRefreshToken } from './tokens';
import { sha256Hex } from '../lib/sql';

export type TokenPurpose = 'invitation' | 'password_reset' | 'email_verification' | 'email_change';

/** 256 random bits, base64url, for a link in an email; only its SHA-256 is stored. */
export const newAccountToken = newRefreshToken;

/**
 * CTEs `<name>_revoked` and `<name>` of a statement that issues a token of `purpose` to each row of `source` (a CTE
 * or table with `id`, the user id, and the SQL `email`: the address the link goes to). Earlier live tokens of the
 * same purpose for that account stop working in the same statement.
 */
export function issueToken(
  name: string,
  t: { purpose: TokenPurpose; hash: string; ttlSeconds: number; source: string; email: SQL },
): SQL {
  const source = sql.raw(t.source);
  return sql`${sql.raw(name)}_revoked as (
    update account_tokens set revoked_at = now()
    where user_id in (select id from ${source}) and purpose = ${t.purpose} and used_at is null and revoked_at is null
  ), ${sql.raw(name)} as (
    insert into account_tokens (token_hash, user_id, purpose, email, expires_at)
    select decode(${t.hash}, 'hex'), id, ${t.purpose}, lower(${t.email}), now() + make_interval(secs => ${t.ttlSeconds}) from ${source}
    returning user_id, email
  )`;
}

/**
 * The body of a CTE that spends a presented token: marks it used only if it is live (unused, not revoked, not
 * expired) and of `purpose`, returning `user_id` and `email`. The row lock makes concurrent uses of one token yield
 * exactly one row; any other token (unknown, used, expired, superseded, other purpose, tampered) yields none.
 */
export async function spendToken(purpose: TokenPurpose, token: string): Promise<SQL> {
  const hash = await sha256Hex(token);
  return sql`update account_tokens set used_at = now()
    where token_hash = decode(${hash}, 'hex') and purpose = ${purpose}
      and used_at is null and revoked_at is null and expires_at > now()
    returning user_id, email`;
}
