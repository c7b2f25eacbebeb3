import { z } from '@hono/zod-openapi';
import type { AuditAction } from '../../lib/audit';
import { PageQuery, pageOf } from '../../lib/cursor';

/** The actions of contract §7, at run time; the check below fails to compile if src/lib/audit.ts gains one. */
export const AUDIT_ACTIONS = [
  'user.register',
  'auth.login',
  'auth.login_failed',
  'auth.logout',
  'auth.refresh_reuse',
  'user.create',
  'user.update',
  'user.delete',
  'user.password_change',
  'role.create',
  'role.update',
  'role.delete',
  'role.assign',
  'role.unassign',
  'user.invite',
  'user.invitation_accept',
  'user.password_reset_request',
  'user.password_reset',
  'user.email_verify',
  'user.email_change',
  'auth.unlock',
  'mfa.enable',
  'mfa.disable',
  'mfa.reset',
  'mfa.recovery_codes',
  'auth.mfa_failed',
  'source.create',
  'source.update',
  'source.rotate',
  'source.delete',
] as const satisfies readonly AuditAction[];
const everyActionListed: [Exclude<AuditAction, (typeof AUDIT_ACTIONS)[number]>] extends [never] ? true : false = true;
void everyActionListed;

/** Every list's `limit` and `cursor` (src/lib/cursor.ts), plus the two filters. */
export const AuditQuery = PageQuery.extend({
  // actor_id is a PostgreSQL integer: anything larger could never match, and must not reach the cast.
  actorId: z
    .string()
    .regex(/^[0-9]{1,10}$/, 'must be a positive whole number')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be a positive whole number').max(2_147_483_647, 'is not a user id'))
    .optional()
    .openapi({ param: { name: 'actorId', in: 'query' }, type: 'integer', minimum: 1, description: 'Only events by this user' }),
  action: z
    .enum(AUDIT_ACTIONS)
    .optional()
    .openapi({ param: { name: 'action', in: 'query' }, description: 'Only events of this action' }),
});

export const AuditEvent = z
  .object({
    id: z.number().int().openapi({ example: 4711 }),
    at: z.string().openapi({ example: '2026-01-31T12:00:00.000Z' }),
    actorId: z.number().int().nullable().openapi({ description: 'The user who acted; null for failed sign-ins' }),
    action: z.enum(AUDIT_ACTIONS),
    targetType: z.string().openapi({ example: 'user', description: 'user, role or session' }),
    targetId: z.string().nullable().openapi({ example: '42', description: 'User id, role name or session id; null when unknown' }),
    ip: z.string().nullable().openapi({ description: 'CF-Connecting-IP of the request' }),
    details: z.record(z.string(), z.unknown()).openapi({ description: 'Small action-specific facts; never secrets' }),
  })
  .openapi('AuditEvent');

export type AuditEventJson = z.infer<typeof AuditEvent>;

export const AuditPage = pageOf(AuditEvent, 'AuditPage');
