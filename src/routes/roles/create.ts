import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { conflict } from '../../lib/errors';
import { bearer, jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { CreateRoleBody, Role, roleJson, type RoleJson } from './schema';

export const createRole = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'post',
    path: '/',
    tags: ['Roles'],
    summary: 'Create a role',
    description:
      'Needs `roles:write`, and every permission the new role carries (403 otherwise: nobody defines a role more ' +
      'powerful than themselves). An unknown permission is a 422 at `permissions`; a taken name a 409.',
    security: bearer,
    middleware: [requirePermission('roles:write')] as const,
    request: { body: jsonBody(CreateRoleBody) },
    responses: {
      201: jsonResponse(Role, 'The new role (userCount 0)'),
      ...problems(400, 401, 403, 409, 413, 415, 422),
    },
  }),
  async (c) => {
    const { name, description = null, permissions = [] } = c.req.valid('json');
    const granted = sql`${sql.param(permissions)}::text[]`;
    const { role } = await guarded<{ role: RoleJson | null }>(c, (g) => sql`
      with ${g.cte},
      r as (
        insert into roles (name, description) select ${name}, ${description} where ${g.ok} and ${g.holdsAll(granted)}
        on conflict (name) do nothing returning *
      ), grants as (
        insert into role_permissions (role_id, permission) select r.id, unnest(${granted}) from r
      ), audit as (${auditInsert(c, 'role.create', {
        actor: g.id,
        targetType: 'role',
        targetId: sql`id`,
        details: sql`json_build_object('name', name, 'description', description, 'permissions', to_json(${granted}))`,
        from: sql`r`,
      })})
      select ${g.outcome}, (select ${roleJson('r', sql`0`, granted)} from r) as role`);
    if (!role) throw conflict(`A role named ${name} already exists.`, 'role-taken');
    return c.json(role, 201);
  },
);
