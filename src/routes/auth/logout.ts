import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { bearer, jsonBody, problems } from '../../lib/openapi';
import { sha256Hex } from '../../lib/sql';
import { auth } from '../../middleware/auth';
import { RefreshBody } from './schema';

export const logout = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'post',
      path: '/logout',
      tags: ['Auth'],
      summary: 'End the session a refresh token belongs to',
      description: 'Idempotent: an unknown, used or already revoked token also answers 204.',
      request: { body: jsonBody(RefreshBody) },
      responses: { 204: { description: 'The session is revoked' }, ...problems(400, 413, 415, 422) },
    }),
    async (c) => {
      const hash = await sha256Hex(c.req.valid('json').refreshToken);
      await c.var.db.execute(sql`
        with ended as (
          update sessions set revoked_at = now()
          where id = (select session_id from refresh_tokens where token_hash = decode(${hash}, 'hex')) and revoked_at is null
          returning id, user_id
        )
        ${auditInsert(c, 'auth.logout', { actor: sql`user_id`, targetType: 'session', targetId: sql`id`, from: sql`ended` })}`);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/logout-all',
      tags: ['Auth'],
      summary: 'End every session of the caller',
      security: bearer,
      middleware: [auth(), requirePermission(null)] as const,
      responses: { 204: { description: 'Every session of the caller is revoked' }, ...problems(401, 403) },
    }),
    async (c) => {
      await guarded(c, (g) => sql`
        with ${g.cte},
        ended as (
          update sessions set revoked_at = now() where user_id = ${g.id} and revoked_at is null and ${g.ok} returning id
        ), audit as (${auditInsert(c, 'auth.logout', {
          actor: g.id,
          targetType: 'user',
          targetId: g.id,
          details: sql`json_build_object('sessions', (select count(*) from ended), 'all', true)`,
          from: sql`authz_caller`,
        })})
        select ${g.outcome}`);
      return c.body(null, 204);
    },
  );
