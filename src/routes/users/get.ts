import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { notFound } from '../../lib/errors';
import { bearer, jsonResponse, problems } from '../../lib/openapi';
import { userJson } from '../../lib/sql';
import { User, type UserJson } from '../../lib/user';
import { UserIdParam, userId } from './schema';

export const getUser = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'get',
    path: '/{id}',
    tags: ['Users'],
    summary: 'One user',
    description: 'Needs `users:read`, except for the caller’s own id (a live session is enough).',
    security: bearer,
    middleware: [requirePermission('users:read', { self: 'id' })] as const,
    request: { params: UserIdParam },
    responses: { 200: jsonResponse(User, 'The user'), ...problems(401, 403, 404) },
  }),
  async (c) => {
    const id = userId(c.req.valid('param').id);
    const { user } = await guarded<{ user: UserJson | null }>(c, (g) => sql`
      with ${g.cte}
      select ${g.outcome}, (select ${userJson('u')} from users u where u.id = ${id}) as user`);
    if (!user) throw notFound('No such user.');
    return c.json(user, 200);
  },
);
