import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../../env';
import { notFound } from '../../lib/errors';
import { bearer, jsonResponse, problems } from '../../lib/openapi';
import { userJson } from '../../lib/sql';
import { User, type UserJson } from '../../lib/user';
import { requireRole } from '../../middleware/auth';
import { UserIdParam, userId } from './schema';

const readers = requireRole('admin', 'analyst');

/** Anyone may read their own user; anyone else's needs a reader role. */
const selfOrReader = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.param('id') === String(c.var.caller.id)) return next();
  return readers(c, next);
});

export const getUser = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'get',
    path: '/{id}',
    tags: ['Users'],
    summary: 'One user',
    description: 'Admins and analysts read anyone; every caller may read their own id.',
    security: bearer,
    middleware: [selfOrReader] as const,
    request: { params: UserIdParam },
    responses: { 200: jsonResponse(User, 'The user'), ...problems(401, 403, 404) },
  }),
  async (c) => {
    const id = userId(c.req.valid('param').id);
    const rows = await c.var.db.execute<{ user: UserJson }>(sql`select ${userJson('u')} as user from users u where u.id = ${id}`);
    if (!rows.rows[0]) throw notFound('No such user.');
    return c.json(rows.rows[0].user, 200);
  },
);
