import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { AppEnv } from '../../env';
import { notFound } from '../../lib/errors';
import { bearer, jsonResponse, problems } from '../../lib/openapi';
import { requireRole } from '../../middleware/auth';
import { Role, roleJson, roleName, RoleParam, type RoleJson } from './schema';

export const getRole = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'get',
    path: '/{role}',
    tags: ['Roles'],
    summary: 'One role with its user count',
    security: bearer,
    middleware: [requireRole('admin', 'analyst')] as const,
    request: { params: RoleParam },
    responses: { 200: jsonResponse(Role, 'The role'), ...problems(401, 403, 404) },
  }),
  async (c) => {
    const name = roleName(c.req.valid('param').role);
    const rows = await c.var.db.execute<{ role: RoleJson }>(sql`select ${roleJson('r')} as role from roles r where r.name = ${name}`);
    if (!rows.rows[0]) throw notFound('No such role.');
    return c.json(rows.rows[0].role, 200);
  },
);
