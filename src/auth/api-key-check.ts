import { sql, type SQL } from 'drizzle-orm';
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { ApiError, forbidden, tooManyRequests, unauthorized } from '../lib/errors';
import { countHit } from '../middleware/rate-limit';

type Mode = 'read' | 'write';

/**
 * The request-time check of a personal API key (contract §16), the counterpart of the session check in
 * authorize.ts and opening the same guarded statement, so a key costs no round trip a token does not:
 * the key by its hash (unique index) → not revoked, not expired → owner enabled → the route's permission granted to
 * the key *and* held by the owner now (the owner's grants filtered by the key's list). The owner's effective
 * permissions seen by the escalation rules are that intersection too, and the key counts as `admin` only when its
 * owner holds `admin` and the key carries every permission `admin` grants.
 *
 * `last_used_at` is kept to the minute by an UPDATE inside the statement that matches only when the stored minute is
 * older than the current one: one write per key per minute, not one per request. Where Cloudflare's Rate Limiting
 * binding is absent, the key's per-minute hit is counted in the same statement (first guarded statement only).
 *
 * Writes lock the key row and the owner's user row (FOR NO KEY UPDATE; a revocation, disabling or deletion waits
 * for the write or is seen by its re-check) and the owner's role assignments and grants (FOR SHARE): unlike a
 * session, a key is not revoked by a role change, so the assignment rows themselves are what a demotion touches.
 */
export function apiKeyCheck(c: Context<AppEnv>, mode: Mode): { cte: SQL; uid: SQL; permissions: SQL; isAdmin: SQL } {
  const { hash } = c.var.caller.apiKey!;
  const { permission } = c.var.authz;
  const write = mode === 'write';
  const uid = sql`(select user_id from authz_key)`;
  const granted = sql`(select permissions from authz_key)::text[]`;
  const grants = sql`select rp.permission from users_roles ur join role_permissions rp on rp.role_id = ur.role_id
    where ur.user_id = ${uid} and rp.permission = any (${granted})`;
  const minute = sql`date_trunc('minute', now())`;

  const ctes = [
    sql`authz_key as (select k.id, k.user_id, k.permissions from api_keys k join users u on u.id = k.user_id
      where k.key_hash = decode(${hash}, 'hex') and k.revoked_at is null and (k.expires_at is null or k.expires_at > now())
        and not u.disabled ${write ? sql`for no key update of k, u` : sql``})`,
    sql`authz_key_used as (update api_keys set last_used_at = ${minute}
      where id = (select id from authz_key) and (last_used_at is null or last_used_at < ${minute}))`,
  ];
  const checks = [sql`when not exists (select 1 from authz_key) then authz_refuse('unauthenticated')`];
  if (!c.env.API_KEY_RATE_LIMITER && c.var.authz.guarded === 0) {
    ctes.push(countHit('authz_key_hits', sql`'api_key:' || (select id from authz_key)`));
    checks.push(sql`when (select hits from authz_key_hits) > ${c.var.config.API_KEY_RATE_LIMIT_PER_MINUTE}
      then api_key_refuse('rate', (select retry_after from authz_key_hits))`);
  }
  if (write) ctes.push(sql`authz_grants as (${grants} for share of ur, rp)`);
  if (permission) {
    const held = write ? sql`select 1 from authz_grants g where g.permission = ${permission}` : sql`${grants} and rp.permission = ${permission}`;
    checks.push(sql`when not exists (${held}) then authz_refuse('forbidden')`);
  }
  ctes.push(sql`authz_caller as (select case ${sql.join(checks, sql` `)} else true end as ok)`);

  return {
    cte: sql.join(ctes, sql`, `),
    uid,
    permissions: write
      ? sql`array(select distinct permission from authz_grants order by 1)`
      : sql`array(select distinct g.permission from (${grants}) g order by 1)`,
    isAdmin: sql`(exists (select 1 from users_roles ur join roles r on r.id = ur.role_id where ur.user_id = ${uid} and r.name = 'admin')
      and not exists (select 1 from roles r join role_permissions rp on rp.role_id = r.id
                      where r.name = 'admin' and rp.permission <> all (${granted})))`,
  };
}

/** The DETAIL of the first PostgreSQL error in a cause chain (Drizzle wraps driver errors). */
function errorDetail(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const detail = (e as { detail?: unknown }).detail;
    if (typeof detail === 'string') return detail;
  }
  return undefined;
}

/** The answer to a refusal of a key's check (null: answered as for a token). */
export function apiKeyRefusal(c: Context<AppEnv>, state: string | undefined, error: unknown): ApiError | undefined {
  switch (state) {
    case 'P0A11':
      return unauthorized('The API key is unknown, revoked or expired, or its owner is disabled or deleted.');
    case 'P0A13':
      return forbidden(`This needs the permission ${c.var.authz.permission}, granted to the API key and held by its owner now.`);
    case 'P0A31':
      return new ApiError(
        403,
        'use-self-service',
        'An API key cannot change its owner’s password or email: the owner does that, signed in, through /v1/me.',
      );
    case 'P0A32':
      return tooManyRequests(Number(errorDetail(error)) || 60, 'Too many requests with this API key; try again later.');
  }
  return undefined;
}
