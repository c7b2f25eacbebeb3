import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, guardedRows, requirePermission } from '../../auth/authorize';
import { PERMISSION_NAMES } from '../../auth/permissions';
import { assertNotBreached } from '../../auth/breached';
import { releaseAttempt } from '../../auth/lockout';
import { hashPassword } from '../../auth/password';
import { passwordChanged } from '../../email/messages/password-changed';
import { enqueueEmail } from '../../email/outbox';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { notFound, unauthorized } from '../../lib/errors';
import { bearer, jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { iso, userJson } from '../../lib/sql';
import { Name, Password, User, type UserJson } from '../../lib/user';
import { checkCurrentPassword } from './current-password';
import { meEmail } from './email';

const gone = () => unauthorized('The account behind this token no longer exists.');

const Me = User.extend({
  permissions: z
    .array(z.enum(PERMISSION_NAMES as [string, ...string[]]))
    .openapi({ example: ['dashboards:write', 'events:read', 'roles:read', 'stats:read', 'users:read'], description: 'The caller’s effective permissions now, sorted.' }),
}).openapi('Me');
type MeJson = z.infer<typeof Me>;

// Every /v1/me route needs a live session of an enabled account, and no permission.
const live = requirePermission(null);

const Session = z
  .object({
    id: z.string().openapi({ example: '5b0c7c9e-2f7e-4a53-9a51-0d1f4f6f9b11' }),
    createdAt: z.string(),
    lastUsedAt: z.string(),
    userAgent: z.string().nullable(),
    ip: z.string().nullable(),
    current: z.boolean(),
  })
  .openapi('Session');

const SessionId = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const me = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['Me'],
      summary: 'The caller, with their effective permissions',
      security: bearer,
      middleware: [live] as const,
      responses: { 200: jsonResponse(Me, 'The caller'), ...problems(401, 403) },
    }),
    async (c) => {
      const { user } = await guarded<{ user: MeJson | null }>(c, (g) => sql`
        with ${g.cte}
        select ${g.outcome},
          (select ${userJson('u')}::jsonb || jsonb_build_object('permissions', to_jsonb(${g.permissions})) from users u where u.id = ${g.id}) as user`);
      if (!user) throw gone();
      return c.json(user, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/',
      tags: ['Me'],
      summary: 'Change the caller’s name',
      security: bearer,
      middleware: [live] as const,
      request: { body: jsonBody(z.strictObject({ name: Name }).openapi('UpdateMeRequest')) },
      responses: { 200: jsonResponse(User, 'The caller, updated'), ...problems(400, 401, 403, 413, 415, 422) },
    }),
    async (c) => {
      const { name } = c.req.valid('json');
      const { user } = await guarded<{ user: UserJson | null }>(c, (g) => sql`
        with ${g.cte},
        u as (update users set name = ${name} where id = ${g.id} and ${g.ok} returning *),
        audit as (${auditInsert(c, 'user.update', {
          actor: sql`id`,
          targetType: 'user',
          targetId: sql`id`,
          details: sql`json_build_object('fields', json_build_array('name'))`,
          from: sql`u`,
        })})
        select ${g.outcome}, (select ${userJson('u')} from u) as user`);
      if (!user) throw gone();
      return c.json(user, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/password',
      tags: ['Me'],
      summary: 'Change the caller’s password',
      description: 'Every other session of the caller is revoked; the current one stays signed in.',
      security: bearer,
      middleware: [live] as const,
      request: {
        body: jsonBody(
          z.strictObject({ currentPassword: z.string().min(1).max(1024), newPassword: Password }).openapi('ChangePasswordRequest'),
        ),
      },
      responses: { 204: { description: 'Changed' }, ...problems(400, 401, 403, 413, 415, 422) },
    }),
    async (c) => {
      const { currentPassword, newPassword } = c.req.valid('json');
      const { sid } = c.var.caller;
      const config = c.var.config;
      // The same lockout as sign-in (§3, issue 12): an attempt is reserved before any hashing, so a stolen access
      // token cannot guess the current password more than LOGIN_MAX_FAILURES times per window.
      const { stored, slot } = await checkCurrentPassword(c, currentPassword);
      await assertNotBreached(config, newPassword, 'newPassword');
      const hash = await hashPassword(newPassword, config.PASSWORD_HASH_PARAMS);
      // Conditional on the hash just verified, so two concurrent changes cannot both pass with the old password.
      const changed = await guarded<{ id: number | null }>(c, (g) => sql`
        with ${g.cte},
        u as (update users set hashed_password = ${hash} where id = ${g.id} and hashed_password = ${stored} and ${g.ok} returning id, email),
        release as (${releaseAttempt(slot, sql`(select email from u)`)}),
        ended as (
          update sessions set revoked_at = now()
          where user_id in (select id from u) and id::text <> ${sid} and revoked_at is null
        ), mail as (${enqueueEmail(c, { to: sql`email`, from: sql`u`, message: passwordChanged('changed') })}),
        audit as (${auditInsert(c, 'user.password_change', { actor: sql`id`, targetType: 'user', targetId: sql`id`, from: sql`u` })})
        select ${g.outcome}, (select id from u) as id`);
      if (changed.id === null) throw unauthorized('The current password is wrong.');
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/sessions',
      tags: ['Me'],
      summary: 'The caller’s live sessions',
      security: bearer,
      middleware: [live] as const,
      responses: { 200: jsonResponse(z.object({ data: z.array(Session) }), 'Live sessions, most recently used first'), ...problems(401, 403) },
    }),
    async (c) => {
      const { sid } = c.var.caller;
      const rows = await guardedRows<z.infer<typeof Session>>(c, (g) => sql`
        select id, ${iso(sql`created_at`)} as "createdAt", ${iso(sql`last_used_at`)} as "lastUsedAt",
               user_agent as "userAgent", ip, id::text = ${sid} as current
        from sessions where user_id = ${g.id} and revoked_at is null and expires_at > now()
        order by last_used_at desc, id`);
      return c.json({ data: rows }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/sessions/{id}',
      tags: ['Me'],
      summary: 'Revoke one of the caller’s sessions',
      description: 'Idempotent for the caller’s own sessions; an id that is not the caller’s is a 404.',
      security: bearer,
      middleware: [live] as const,
      request: { params: SessionId },
      responses: { 204: { description: 'Revoked' }, ...problems(401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      if (!UUID.test(id)) throw notFound('No such session.');
      const row = await guarded<{ id: string | null }>(c, (g) => sql`
        with ${g.cte},
        s as (
          update sessions set revoked_at = coalesce(revoked_at, now()) where id = ${id}::uuid and user_id = ${g.id} and ${g.ok}
          returning id, user_id, revoked_at = now() as ended_now
        ), audit as (${auditInsert(c, 'auth.logout', {
          actor: sql`user_id`,
          targetType: 'session',
          targetId: sql`id`,
          from: sql`s where ended_now`,
        })})
        select ${g.outcome}, (select id from s) as id`);
      if (row.id === null) throw notFound('No such session.');
      return c.body(null, 204);
    },
  )
  .route('/', meEmail);
