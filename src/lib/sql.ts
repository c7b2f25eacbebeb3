import { sql, type SQL } from 'drizzle-orm';

/** ISO 8601 UTC with milliseconds, as the contract writes timestamps; formatted by PostgreSQL so JS never parses. */
export const iso = (column: SQL) => sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * The contract's User object, built in SQL so any statement can return finished JSON in the same round trip.
 * `invited`: an account created without a password that has not accepted its invitation yet (contract §9).
 * `roles` and `mfa` read the statement's snapshot: a statement that also changes the user's roles or second factor
 * passes the new value in.
 */
export function userJson(alias: string, roles?: SQL, mfa?: SQL): SQL {
  const u = sql.raw(alias);
  const roleNames =
    roles ??
    sql`coalesce((select json_agg(r.name order by r.name) from users_roles ur join roles r on r.id = ur.role_id
                  where ur.user_id = ${u}.id), '[]'::json)`;
  return sql`json_build_object('id', ${u}.id, 'name', ${u}.name, 'email', ${u}.email, 'roles', ${roleNames},
    'disabled', ${u}.disabled, 'createdAt', ${iso(sql`${u}.created_at`)}, 'lastLoginAt', ${iso(sql`${u}.last_login_at`)},
    'emailVerified', ${u}.email_verified, 'invited', ${u}.hashed_password is null,
    'mfaEnabled', ${mfa ?? sql`exists (select 1 from mfa_factors f where f.user_id = ${u}.id and f.enabled_at is not null)`})`;
}

/** Hex of SHA-256: how refresh tokens and throttled emails are stored (decode(…, 'hex') in SQL). */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
