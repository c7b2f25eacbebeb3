import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { issueToken, newAccountToken } from '../../auth/account-tokens';
import { guarded, requirePermission } from '../../auth/authorize';
import { clearLockout } from '../../auth/lockout';
import { emailLink, LINK_PATHS } from '../../email/links';
import { invitation } from '../../email/messages/invitation';
import { enqueueEmail } from '../../email/outbox';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { conflict, notFound } from '../../lib/errors';
import { bearer, jsonResponse, problems } from '../../lib/openapi';
import { Accepted } from '../auth/schema';
import { UserIdParam, userId } from './schema';

/** Contract §9: an admin resends an invitation, or lifts the sign-in lockout of an account's email. */
export const userLifecycle = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'post',
      path: '/{id}/invitation',
      tags: ['Users'],
      summary: 'Send a new invitation email',
      description: 'Needs `users:write`. Earlier invitation links of the user stop working. 409 when the user is not an invitation.' +
        ' The caller must hold every permission the user holds, and `admin` if the user holds it (403 `target-stronger`).',
      security: bearer,
      middleware: [requirePermission('users:write')] as const,
      request: { params: UserIdParam },
      responses: { 202: jsonResponse(Accepted, 'A new invitation is on its way'), ...problems(401, 403, 404, 409) },
    }),
    async (c) => {
      const id = userId(c.req.valid('param').id);
      const config = c.var.config;
      const link = await newAccountToken();
      const message = invitation(emailLink(c, LINK_PATHS.invitation, link.token), config.INVITATION_TTL);
      const row = await guarded<{ invited: boolean | null }>(c, (g) => sql`
        with ${g.cte},
        target as (select id, email, hashed_password is null as invited from users where id = ${id} and ${g.ok} and ${g.mayActOn(sql`${id}::int`)}),
        invitee as (select id, email from target where invited),
        ${issueToken('invite', { purpose: 'invitation', hash: link.hash, ttlSeconds: config.INVITATION_TTL, source: 'invitee', email: sql`email` })},
        mail as (${enqueueEmail(c, { to: sql`email`, from: sql`invitee`, message })}),
        audit as (${auditInsert(c, 'user.invite', {
          actor: g.id,
          targetType: 'user',
          targetId: sql`id`,
          details: sql`json_build_object('resend', true)`,
          from: sql`invitee`,
        })})
        select ${g.outcome}, (select invited from target) as invited`);
      if (row.invited === null) throw notFound('No such user.');
      if (!row.invited) throw conflict('This user has already accepted the invitation.', 'not-invited');
      return c.json({ status: 'accepted' as const, detail: 'A new invitation is on its way.' }, 202);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/{id}/unlock',
      tags: ['Users'],
      summary: 'Clear the sign-in lockout of a user’s email',
      description: 'Needs `users:write`. The failed attempts counted for the email are forgotten; the next sign-in is checked normally.' +
        ' The caller must hold every permission the user holds, and `admin` if the user holds it (403 `target-stronger`).',
      security: bearer,
      middleware: [requirePermission('users:write')] as const,
      request: { params: UserIdParam },
      responses: { 204: { description: 'Unlocked' }, ...problems(401, 403, 404) },
    }),
    async (c) => {
      const id = userId(c.req.valid('param').id);
      const row = await guarded<{ id: number | null }>(c, (g) => sql`
        with ${g.cte},
        target as (select id, email from users where id = ${id} and ${g.ok} and ${g.mayActOn(sql`${id}::int`)}),
        cleared as (${clearLockout(sql`email`, sql`target`)} returning 1),
        audit as (${auditInsert(c, 'auth.unlock', {
          actor: g.id,
          targetType: 'user',
          targetId: sql`id`,
          details: sql`json_build_object('wasLocked', exists (select 1 from cleared))`,
          from: sql`target`,
        })})
        select ${g.outcome}, (select id from target) as id`);
      if (row.id === null) throw notFound('No such user.');
      return c.body(null, 204);
    },
  );
