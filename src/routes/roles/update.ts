import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { notFound } from '../../lib/errors';
import { bearer, jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { requireRole } from '../../middleware/auth';
import { Role, roleJson, roleName, RoleParam, UpdateRoleBody, type RoleJson } from './schema';

export const updateRole = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'patch',
    path: '/{role}',
    tags: ['Roles'],
    summary: 'Change a role’s description',
    description: 'The name is immutable: a body with any field but `description` is a 422.',
    security: bearer,
    middleware: [requireRole('admin')] as const,
    request: { params: RoleParam, body: jsonBody(UpdateRoleBody) },
    responses: { 200: jsonResponse(Role, 'The role, updated'), ...problems(400, 401, 403, 404, 413, 415, 422) },
  }),
  async (c) => {
    const name = roleName(c.req.valid('param').role);
    const { description } = c.req.valid('json');
    const rows = await c.var.db.execute<{ role: RoleJson }>(sql`
      with old as (select id, description from roles where name = ${name} for no key update),
      r as (
        update roles set description = ${description} from old where roles.id = old.id
        returning roles.*, old.description is distinct from roles.description as changed
      ), audit as (${auditInsert(c, 'role.update', {
        actor: sql`${c.var.caller.id}::int`,
        targetType: 'role',
        targetId: sql`id`,
        details: sql`json_build_object('name', name, 'fields', json_build_array('description'), 'description', description)`,
        from: sql`r where changed`,
      })})
      select ${roleJson('r')} as role from r`);
    if (!rows.rows[0]) throw notFound('No such role.');
    return c.json(rows.rows[0].role, 200);
  },
);
