import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { notFound } from '../../lib/errors';
import { bearer, problems } from '../../lib/openapi';
import { UserIdParam, userId } from './schema';

export const revokeSessions = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'delete',
    path: '/{id}/sessions',
    tags: ['Users'],
    summary: 'Revoke every session of a user',
    description: 'Their refresh tokens and access tokens stop working at once (the next request is a 401).' +
      ' The caller must hold every permission the user holds, and `admin` if the user holds it (403 `target-stronger`).',
    security: bearer,
    middleware: [requirePermission('users:write')] as const,
    request: { params: UserIdParam },
    responses: { 204: { description: 'Revoked' }, ...problems(401, 403, 404) },
  }),
  async (c) => {
    const id = userId(c.req.valid('param').id);
    // Recorded as auth.logout (as logout-all is) with the admin as actor and the number of sessions ended.
    const row = await guarded<{ id: number | null }>(c, (g) => sql`
      with ${g.cte},
      target as (select id from users where id = ${id} and ${g.ok} and ${g.mayActOn(sql`${id}::int`)}),
      ended as (
        update sessions set revoked_at = now() where user_id = (select id from target) and revoked_at is null returning id
      ), audit as (${auditInsert(c, 'auth.logout', {
        actor: g.id,
        targetType: 'user',
        targetId: sql`id`,
        details: sql`json_build_object('sessions', (select count(*) from ended), 'all', true)`,
        from: sql`target`,
      })})
      select ${g.outcome}, (select id from target) as id`);
    if (row.id === null) throw notFound('No such user.');
    return c.body(null, 204);
  },
);
