import { sql, type SQL } from 'drizzle-orm';
import type { Context } from 'hono';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';

/**
 * The CTEs `revoked` and `revoked_audit`: revokes key `id` of user `owner` when `when` holds (idempotently: an
 * already revoked key keeps its time), with an `api_key.revoke` audit row by `actor` the first time. `revoked`
 * answers the key's id; no row: the owner has no such key.
 */
export function revokeKey(c: Context<AppEnv>, k: { id: SQL; owner: SQL; when: SQL; actor: SQL }): SQL {
  return sql`revoked as (
      update api_keys set revoked_at = coalesce(revoked_at, now()) where id = ${k.id} and user_id = ${k.owner} and ${k.when}
      returning id, user_id, name, revoked_at = now() as revoked_now
    ), revoked_audit as (${auditInsert(c, 'api_key.revoke', {
      actor: k.actor,
      targetType: 'api_key',
      targetId: sql`id`,
      details: sql`json_build_object('apiKeyId', id, 'name', name, 'userId', user_id)`,
      from: sql`revoked where revoked_now`,
    })})`;
}
