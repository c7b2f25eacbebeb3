import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, guardedRows, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { conflict, notFound } from '../../lib/errors';
import { bearer, problems } from '../../lib/openapi';
import { BUILT_IN_ROLES, roleName, RoleParam } from './schema';

export const deleteRole = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'delete',
    path: '/{role}',
    tags: ['Roles'],
    summary: 'Delete a role and its assignments',
    description:
      'Needs `roles:write`. The built-in roles (admin, analyst, viewer) cannot be deleted (409). The users who held ' +
      'the role lose it, and with it the permissions it granted (their next request that needs one is a 403); their ' +
      'sessions stay live (contract §8). The caller must hold every permission the role carries (403 `target-stronger`).',
    security: bearer,
    middleware: [requirePermission('roles:write')] as const,
    request: { params: RoleParam },
    responses: { 204: { description: 'Deleted' }, ...problems(401, 403, 404, 409) },
  }),
  async (c) => {
    const name = roleName(c.req.valid('param').role);
    if ((BUILT_IN_ROLES as readonly string[]).includes(name)) throw conflict(`The built-in role ${name} cannot be deleted.`, 'built-in-role');
    // The assignments and grants go by the foreign keys' cascade; `holders` is read from the snapshot before it.
    const row = await guarded<{ id: number | null }>(c, (g) => sql`
      with ${g.cte},
      holders as (
        select ur.user_id from users_roles ur join roles r on r.id = ur.role_id where r.name = ${name}
      ), r as (
        delete from roles where name = ${name} and ${g.ok} and ${g.mayRedefine(sql`roles.id`)} returning id, name
      ), audit as (${auditInsert(c, 'role.delete', {
        actor: g.id,
        targetType: 'role',
        targetId: sql`id`,
        details: sql`json_build_object('name', name, 'users', (select count(*) from holders))`,
        from: sql`r`,
      })})
      select ${g.outcome}, (select id from r) as id`);
    if (row.id === null) throw notFound('No such role.');
    return c.body(null, 204);
  },
);
