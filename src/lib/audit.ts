import { sql, type SQL } from 'drizzle-orm';
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { clientIp } from './client-ip';

export type AuditAction =
  | 'user.register'
  | 'auth.login'
  | 'auth.login_failed'
  | 'auth.logout'
  | 'auth.refresh_reuse'
  | 'user.create'
  | 'user.update'
  | 'user.delete'
  | 'user.password_change'
  | 'role.create'
  | 'role.update'
  | 'role.delete'
  | 'role.assign'
  | 'role.unassign'
  // Account lifecycle (contract §9).
  | 'user.invite'
  | 'user.invitation_accept'
  | 'user.password_reset_request'
  | 'user.password_reset'
  | 'user.email_verify'
  | 'user.email_change'
  | 'auth.unlock'
  | 'mfa.enable'
  | 'mfa.disable'
  | 'mfa.reset'
  | 'mfa.recovery_codes'
  | 'auth.mfa_failed'
  // Event sources (contract §13).
  | 'source.create'
  | 'source.update'
  | 'source.rotate'
  | 'source.delete';

/** Where a request came from, as recorded in audit rows and sessions. */
export function origin(c: Context<AppEnv>) {
  return {
    ip: clientIp(c),
    userAgent: c.req.header('user-agent')?.slice(0, 512) ?? null,
    requestId: c.get('requestId') ?? null,
  };
}

/**
 * An `insert into audit_events … select … from <source>` for use as a CTE, so the row is written by the same
 * statement as the change it records: no change without its row, no row without its change.
 * `actor`, `targetId` and `details` are SQL over the columns of `source`.
 */
export function auditInsert(
  c: Context<AppEnv>,
  action: AuditAction,
  e: { actor: SQL; targetType: string; targetId: SQL; details?: SQL; from?: SQL },
): SQL {
  const { ip, requestId } = origin(c);
  return sql`insert into audit_events (actor_id, action, target_type, target_id, ip, request_id, details)
    select ${e.actor}, ${action}, ${e.targetType}, (${e.targetId})::text, ${ip}, ${requestId}, coalesce((${e.details ?? sql`'{}'`})::jsonb, '{}'::jsonb)
    ${e.from ? sql`from ${e.from}` : sql``}`;
}
