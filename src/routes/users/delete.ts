import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { notFound } from '../../lib/errors';
import { bearer, problems } from '../../lib/openapi';
import { requireRole } from '../../middleware/auth';
import { refusalsAsProblems } from './conflicts';
import { UserIdParam, userId } from './schema';

export const deleteUser = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'delete',
    path: '/{id}',
    tags: ['Users'],
    summary: 'Delete a user',
    description: 'Their sessions and refresh tokens go with them. Deleting the last enabled admin is a 409.',
    security: bearer,
    middleware: [requireRole('admin')] as const,
    request: { params: UserIdParam },
    responses: { 204: { description: 'Deleted' }, ...problems(401, 403, 404, 409) },
  }),
  async (c) => {
    const id = userId(c.req.valid('param').id);
    const rows = await refusalsAsProblems(
      c.var.db.execute<{ id: number }>(sql`
        with d as (delete from users where id = ${id} returning id, email),
        audit as (${auditInsert(c, 'user.delete', {
          actor: sql`${c.var.caller.id}::int`,
          targetType: 'user',
          targetId: sql`id`,
          details: sql`json_build_object('email', email)`,
          from: sql`d`,
        })})
        select id from d`),
    );
    if (!rows.rows[0]) throw notFound('No such user.');
    return c.body(null, 204);
  },
);
