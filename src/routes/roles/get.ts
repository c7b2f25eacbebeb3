import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, guardedRows, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { notFound } from '../../lib/errors';
import { bearer, jsonResponse, problems } from '../../lib/openapi';
import { Role, roleJson, roleName, RoleParam, type RoleJson } from './schema';

export const getRole = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'get',
    path: '/{role}',
    tags: ['Roles'],
    summary: 'One role with its user count',
    security: bearer,
    middleware: [requirePermission('roles:read')] as const,
    request: { params: RoleParam },
    responses: { 200: jsonResponse(Role, 'The role'), ...problems(401, 403, 404) },
  }),
  async (c) => {
    const name = roleName(c.req.valid('param').role);
    const { role } = await guarded<{ role: RoleJson | null }>(c, (g) => sql`
      with ${g.cte} select ${g.outcome}, (select ${roleJson('r')} from roles r where r.name = ${name}) as role`);
    if (!role) throw notFound('No such role.');
    return c.json(role, 200);
  },
);
