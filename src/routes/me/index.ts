import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { assertNotBreached } from '../../auth/breached';
import { hashPassword, verifyPassword } from '../../auth/password';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { notFound, unauthorized } from '../../lib/errors';
import { bearer, jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { iso, userJson } from '../../lib/sql';
import { Name, Password, User, type UserJson } from '../../lib/user';

const gone = () => unauthorized('The account behind this token no longer exists.');

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
      summary: 'The caller',
      security: bearer,
      responses: { 200: jsonResponse(User, 'The caller'), ...problems(401) },
    }),
    async (c) => {
      const rows = await c.var.db.execute<{ user: UserJson }>(
        sql`select ${userJson('u')} as user from users u where u.id = ${c.var.caller.id}`,
      );
      if (!rows.rows[0]) throw gone();
      return c.json(rows.rows[0].user, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/',
      tags: ['Me'],
      summary: 'Change the caller’s name',
      security: bearer,
      request: { body: jsonBody(z.strictObject({ name: Name }).openapi('UpdateMeRequest')) },
      responses: { 200: jsonResponse(User, 'The caller, updated'), ...problems(400, 401, 413, 415, 422) },
    }),
    async (c) => {
      const { name } = c.req.valid('json');
      const id = c.var.caller.id;
      const rows = await c.var.db.execute<{ user: UserJson }>(sql`
        with u as (update users set name = ${name} where id = ${id} returning *),
        audit as (${auditInsert(c, 'user.update', {
          actor: sql`id`,
          targetType: 'user',
          targetId: sql`id`,
          details: sql`json_build_object('fields', json_build_array('name'))`,
          from: sql`u`,
        })})
        select ${userJson('u')} as user from u`);
      if (!rows.rows[0]) throw gone();
      return c.json(rows.rows[0].user, 200);
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
      request: {
        body: jsonBody(
          z.strictObject({ currentPassword: z.string().min(1).max(1024), newPassword: Password }).openapi('ChangePasswordRequest'),
        ),
      },
      responses: { 204: { description: 'Changed' }, ...problems(400, 401, 413, 415, 422) },
    }),
    async (c) => {
      const { currentPassword, newPassword } = c.req.valid('json');
      const { id, sid } = c.var.caller;
      const { db, config } = c.var;
      const found = await db.execute<{ hashed_password: string }>(sql`select hashed_password from users where id = ${id}`);
      const stored = found.rows[0]?.hashed_password;
      if (!stored) throw gone();
      if (!(await verifyPassword(currentPassword, stored))) throw unauthorized('The current password is wrong.');
      await assertNotBreached(config, newPassword, 'newPassword');
      const hash = await hashPassword(newPassword, config.PASSWORD_HASH_PARAMS);
      // Conditional on the hash just verified, so two concurrent changes cannot both pass with the old password.
      const changed = await db.execute(sql`
        with u as (update users set hashed_password = ${hash} where id = ${id} and hashed_password = ${stored} returning id),
        ended as (
          update sessions set revoked_at = now()
          where user_id in (select id from u) and id::text <> ${sid} and revoked_at is null
        ), audit as (${auditInsert(c, 'user.password_change', { actor: sql`id`, targetType: 'user', targetId: sql`id`, from: sql`u` })})
        select id from u`);
      if (changed.rows.length === 0) throw unauthorized('The current password is wrong.');
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
      responses: { 200: jsonResponse(z.object({ data: z.array(Session) }), 'Live sessions, most recently used first'), ...problems(401) },
    }),
    async (c) => {
      const { id, sid } = c.var.caller;
      const rows = await c.var.db.execute<z.infer<typeof Session>>(sql`
        select id, ${iso(sql`created_at`)} as "createdAt", ${iso(sql`last_used_at`)} as "lastUsedAt",
               user_agent as "userAgent", ip, id::text = ${sid} as current
        from sessions where user_id = ${id} and revoked_at is null and expires_at > now()
        order by last_used_at desc, id`);
      return c.json({ data: rows.rows }, 200);
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
      request: { params: SessionId },
      responses: { 204: { description: 'Revoked' }, ...problems(401, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      if (!UUID.test(id)) throw notFound('No such session.');
      const me = c.var.caller.id;
      const rows = await c.var.db.execute(sql`
        with s as (
          update sessions set revoked_at = coalesce(revoked_at, now()) where id = ${id}::uuid and user_id = ${me}
          returning id, user_id, revoked_at = now() as ended_now
        ), audit as (${auditInsert(c, 'auth.logout', {
          actor: sql`user_id`,
          targetType: 'session',
          targetId: sql`id`,
          from: sql`s where ended_now`,
        })})
        select id from s`);
      if (rows.rows.length === 0) throw notFound('No such session.');
      return c.body(null, 204);
    },
  );
