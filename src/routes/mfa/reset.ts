import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { enqueueEmail } from '../../email/outbox';
import { mfaNotice } from '../../email/messages/mfa-notice';
import { auditInsert } from '../../lib/audit';
import { notFound } from '../../lib/errors';
import { bearer, problems } from '../../lib/openapi';
import { UserIdParam, userId } from '../users/schema';

/** Contract §10: an admin removes a user's second factor (the user lost the device and the recovery codes). */
export const resetMfa = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'delete',
    path: '/{id}/mfa',
    tags: ['Users'],
    summary: 'Remove a user’s second factor',
    description:
      'For a user who lost their authenticator and recovery codes: the factor (or a pending enrolment), its recovery ' +
      'codes and open sign-in challenges are deleted and every session of the user is revoked. The user then signs ' +
      'in with the password alone and can enrol again. Idempotent: a user without a factor is a 204 and nothing changes.' +
      ' The caller must hold every permission the user holds, and `admin` if the user holds it (403 `target-stronger`).',
    security: bearer,
    middleware: [requirePermission('users:write')] as const,
    request: { params: UserIdParam },
    responses: { 204: { description: 'Removed' }, ...problems(401, 403, 404) },
  }),
  async (c) => {
    const id = userId(c.req.valid('param').id);
    const row = await guarded<{ id: number | null }>(c, (g) => sql`
      with ${g.cte}, target as (select id from users where id = ${id} and ${g.mayActOn(sql`${id}::int`)}),
      gone as (
        delete from mfa_factors where user_id in (select id from target) and ${g.ok} returning user_id, enabled_at is not null as was_enabled
      ), ended as (
        update sessions set revoked_at = now() where user_id in (select user_id from gone) and revoked_at is null returning id
      ), audit as (${auditInsert(c, 'mfa.reset', {
        actor: g.id,
        targetType: 'user',
        targetId: sql`user_id`,
        details: sql`json_build_object('enabled', was_enabled, 'sessions', (select count(*) from ended))`,
        from: sql`gone`,
      })}),
      mail as (${enqueueEmail(c, { to: sql`u.email`, from: sql`gone join users u on u.id = gone.user_id where gone.was_enabled`, message: mfaNotice('reset') })})
      select ${g.outcome}, (select id from target) as id`);
    if (row.id === null) throw notFound('No such user.');
    return c.body(null, 204);
  },
);
