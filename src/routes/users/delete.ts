import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { notFound } from '../../lib/errors';
import { bearer, problems } from '../../lib/openapi';
import { refusalsAsProblems } from './conflicts';
import { UserIdParam, userId } from './schema';

export const deleteUser = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'delete',
    path: '/{id}',
    tags: ['Users'],
    summary: 'Delete a user',
    description: 'Their sessions and refresh tokens go with them. Deleting the last enabled admin is a 409.' +
      ' The caller must hold every permission the user holds, and `admin` if the user holds it (403 `target-stronger`).',
    security: bearer,
    middleware: [requirePermission('users:write')] as const,
    request: { params: UserIdParam },
    responses: { 204: { description: 'Deleted' }, ...problems(401, 403, 404, 409) },
  }),
  async (c) => {
    const id = userId(c.req.valid('param').id);
    const row = await refusalsAsProblems(
      guarded<{ id: number | null }>(c, (g) => sql`
        with ${g.cte},
        d as (delete from users where id = ${id} and ${g.ok} and ${g.mayActOn(sql`${id}::int`)} returning id, email),
        audit as (${auditInsert(c, 'user.delete', {
          actor: g.id,
          targetType: 'user',
          targetId: sql`id`,
          details: sql`json_build_object('email', email)`,
          from: sql`d`,
        })})
        select ${g.outcome}, (select id from d) as id`),
    );
    if (row.id === null) throw notFound('No such user.');
    return c.body(null, 204);
  },
);
