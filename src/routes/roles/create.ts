import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { conflict } from '../../lib/errors';
import { bearer, jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { requireRole } from '../../middleware/auth';
import { CreateRoleBody, Role, roleJson, type RoleJson } from './schema';

export const createRole = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'post',
    path: '/',
    tags: ['Roles'],
    summary: 'Create a role',
    security: bearer,
    middleware: [requireRole('admin')] as const,
    request: { body: jsonBody(CreateRoleBody) },
    responses: {
      201: jsonResponse(Role, 'The new role (userCount 0)'),
      ...problems(400, 401, 403, 409, 413, 415, 422),
    },
  }),
  async (c) => {
    const { name, description = null } = c.req.valid('json');
    const rows = await c.var.db.execute<{ role: RoleJson }>(sql`
      with r as (
        insert into roles (name, description) values (${name}, ${description}) on conflict (name) do nothing returning *
      ), audit as (${auditInsert(c, 'role.create', {
        actor: sql`${c.var.caller.id}::int`,
        targetType: 'role',
        targetId: sql`id`,
        details: sql`json_build_object('name', name, 'description', description)`,
        from: sql`r`,
      })})
      select ${roleJson('r', sql`0`)} as role from r`);
    if (!rows.rows[0]) throw conflict(`A role named ${name} already exists.`, 'role-taken');
    return c.json(rows.rows[0].role, 201);
  },
);
