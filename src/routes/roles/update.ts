import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { conflict, notFound } from '../../lib/errors';
import { bearer, jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { BUILT_IN_ROLES, Role, roleJson, roleName, RoleParam, UpdateRoleBody, type RoleJson } from './schema';

export const updateRole = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'patch',
    path: '/{role}',
    tags: ['Roles'],
    summary: 'Change a role’s description or permissions',
    description:
      'Needs `roles:write`. `permissions` replaces the set, and the caller must hold every permission of the new set ' +
      '(403) and, when `permissions` is given, every permission of the current set (403 `target-stronger`); the ' +
      'built-in roles’ permissions cannot change (409). Holders keep their sessions: their next request ' +
      'is judged with the new set. The name is immutable: a body with any other field is a 422.',
    security: bearer,
    middleware: [requirePermission('roles:write')] as const,
    request: { params: RoleParam, body: jsonBody(UpdateRoleBody) },
    responses: { 200: jsonResponse(Role, 'The role, updated'), ...problems(400, 401, 403, 404, 409, 413, 415, 422) },
  }),
  async (c) => {
    const name = roleName(c.req.valid('param').role);
    const { description, permissions } = c.req.valid('json');
    if (permissions !== undefined && (BUILT_IN_ROLES as readonly string[]).includes(name)) {
      throw conflict(`The permissions of the built-in role ${name} cannot be changed.`, 'built-in-role');
    }
    const wanted = permissions === undefined ? sql`null::text[]` : sql`${sql.param(permissions)}::text[]`;
    // `old` locks the role, so concurrent changes of one role's permissions serialise; the grants are replaced by
    // removing what is no longer wanted and adding what is new (a grant the caller check holds FOR SHARE is only
    // touched when it really goes).
    const { role } = await guarded<{ role: RoleJson | null }>(c, (g) => sql`
      with ${g.cte},
      old as (
        select id, description, array(select permission from role_permissions where role_id = roles.id order by 1) as permissions
        from roles where name = ${name} and ${g.ok} and (${wanted} is null or (${g.holdsAll(wanted)} and ${g.mayRedefine(sql`roles.id`)}))
        for no key update
      ), r as (
        update roles set description = ${description === undefined ? sql`roles.description` : description}
        from old where roles.id = old.id
        returning roles.*, old.description is distinct from roles.description as description_changed,
          coalesce(${wanted}, old.permissions) as permissions, coalesce(${wanted}, old.permissions) <> old.permissions as permissions_changed
      ), removed as (
        delete from role_permissions rp using r
        where rp.role_id = r.id and r.permissions_changed and rp.permission <> all (r.permissions)
      ), added as (
        insert into role_permissions (role_id, permission)
        select r.id, p from r, unnest(r.permissions) p where r.permissions_changed
        on conflict do nothing
      ), audit as (${auditInsert(c, 'role.update', {
        actor: g.id,
        targetType: 'role',
        targetId: sql`id`,
        details: sql`json_build_object('name', name,
          'fields', to_json(array_remove(array[case when description_changed then 'description' end,
                                               case when permissions_changed then 'permissions' end], null)),
          'description', description, 'permissions', to_json(permissions))`,
        from: sql`r where description_changed or permissions_changed`,
      })})
      select ${g.outcome}, (select ${roleJson('r', undefined, sql`r.permissions`)} from r) as role`);
    if (!role) throw notFound('No such role.');
    return c.json(role, 200);
  },
);
