import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql, type SQL } from 'drizzle-orm';
import type { Context } from 'hono';
import { guarded, requirePermission, type Guard } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { notFound, validationFailed } from '../../lib/errors';
import { bearer, jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { userJson } from '../../lib/sql';
import { User, type UserJson } from '../../lib/user';
import { roleName } from '../roles/schema';
import { refusalsAsProblems } from './conflicts';
import { ReplaceRolesBody, UserIdParam, userId, UserRoleParams } from './schema';

const rolesWrite = requirePermission('roles:write');

/** Ends the sessions of the users in `changed` (a CTE returning user_id): changing roles revokes refresh tokens. */
const endSessions = (changed: string) =>
  sql`update sessions set revoked_at = now() where user_id in (select user_id from ${sql.raw(changed)}) and revoked_at is null`;

/**
 * Grants or takes one role in one statement: `change` runs over the CTEs `u` (the user) and `r` (the role) and
 * returns the user_id it changed, if any; the user's sessions end and an audit row is written only when it did.
 * 404 when the user or the role does not exist; the last-admin trigger's refusal becomes a 409. `may` judges the
 * role (§8, no escalation) whether or not the user holds it, so an idempotent call is refused like a real one; taking
 * a role away also judges the user (§8 v3, no acting on someone stronger), likewise.
 */
async function changeOneRole(
  c: Context<AppEnv>,
  params: { id: string; role: string },
  action: 'role.assign' | 'role.unassign',
  may: (g: Guard, roleId: SQL) => SQL,
  change: SQL,
) {
  const id = userId(params.id);
  const role = roleName(params.role);
  const row = await refusalsAsProblems(
    guarded<{ user: boolean; role: boolean }>(c, (g) => sql`
      with ${g.cte},
      u as (select id from users where id = ${id} and ${g.ok} and ${action === 'role.unassign' ? g.mayActOn(sql`${id}::int`) : sql`true`}),
      r as (select id from roles where name = ${role} and ${may(g, sql`roles.id`)}),
      changed as (${change}),
      ended as (${endSessions('changed')}),
      audit as (${auditInsert(c, action, {
        actor: g.id,
        targetType: 'user',
        targetId: sql`user_id`,
        details: sql`json_build_object('role', ${role}::text)`,
        from: sql`changed`,
      })})
      select ${g.outcome}, exists (select 1 from u) as user, exists (select 1 from r) as role`),
  );
  if (!row.user) throw notFound('No such user.');
  if (!row.role) throw notFound('No such role.');
  return c.body(null, 204);
}

export const userRoles = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'put',
      path: '/{id}/roles',
      tags: ['Users'],
      summary: 'Replace a user’s roles',
      description:
        'Atomic: an unknown role is a 422 and nothing changes; removing the last enabled admin is a 409. When the ' +
        'set changes, the user’s sessions are revoked and one role.assign / role.unassign audit row is written per role. ' +
        'Needs `roles:write`; every role added must carry only permissions the caller holds, and adding or removing ' +
        '`admin` needs the caller to hold `admin` (403, nothing changes). A set that takes a role away also needs every ' +
        'permission the user holds, and `admin` if the user holds it (403 `target-stronger`).',
      security: bearer,
      middleware: [rolesWrite] as const,
      request: { params: UserIdParam, body: jsonBody(ReplaceRolesBody) },
      responses: { 200: jsonResponse(User, 'The user with the new roles'), ...problems(400, 401, 403, 404, 409, 413, 415, 422) },
    }),
    async (c) => {
      const id = userId(c.req.valid('param').id);
      const { roles } = c.req.valid('json');
      // Unknown roles stop everything (the function gets no user); the replace itself runs in replace_user_roles_as()
      // (drizzle/0004), which locks the user first so that concurrent replaces serialise instead of mixing, and then
      // judges what it adds and removes against the caller's permissions.
      const row = await refusalsAsProblems(
        guarded<{ found: boolean; unknown: string[]; user: UserJson | null }>(c, (g) => sql`
          with ${g.cte},
          wanted as (select unnest(${sql.param(roles)}::text[]) as name),
          known as (select r.id, r.name from roles r where r.name in (select name from wanted)),
          unknown as (select name from wanted where name not in (select name from known)),
          target as (select id from users where id = ${id}),
          changes as materialized (
            select * from replace_user_roles_as(
              (select id from target where not exists (select 1 from unknown) and ${g.ok}),
              array(select name from known), ${g.permissions}, ${g.isAdmin})
          ), ended as (
            update sessions set revoked_at = now()
            where user_id = (select id from target) and revoked_at is null and exists (select 1 from changes)
          ), audit_assign as (${auditInsert(c, 'role.assign', {
            actor: g.id,
            targetType: 'user',
            targetId: sql`${id}::int`,
            details: sql`json_build_object('role', role_name)`,
            from: sql`changes where added`,
          })}),
          audit_unassign as (${auditInsert(c, 'role.unassign', {
            actor: g.id,
            targetType: 'user',
            targetId: sql`${id}::int`,
            details: sql`json_build_object('role', role_name)`,
            from: sql`changes where not added`,
          })})
          select ${g.outcome}, exists (select 1 from target) as found,
            array(select name from unknown order by name) as unknown,
            (select ${userJson('u', sql`(select coalesce(json_agg(name order by name), '[]'::json) from known)`)}
               from users u where u.id = (select id from target)) as user`),
      );
      if (!row.found) throw notFound('No such user.');
      if (row.unknown.length > 0) throw validationFailed(row.unknown.map((r) => ({ path: 'roles', message: `unknown role: ${r}` })));
      return c.json(row.user!, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'put',
      path: '/{id}/roles/{role}',
      tags: ['Users'],
      summary: 'Grant a user one role',
      description:
        'Idempotent: granting a role the user holds changes nothing. Unknown user or role: 404. Needs `roles:write` and ' +
        'every permission the role carries; `admin` needs the caller to hold `admin` (403).',
      security: bearer,
      middleware: [rolesWrite] as const,
      request: { params: UserRoleParams },
      responses: { 204: { description: 'The user holds the role' }, ...problems(401, 403, 404) },
    }),
    (c) =>
      changeOneRole(c, c.req.valid('param'), 'role.assign', (g, id) => g.mayAssign(id), sql`insert into users_roles (user_id, role_id)
        select u.id, r.id from u, r on conflict do nothing returning user_id`),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/{id}/roles/{role}',
      tags: ['Users'],
      summary: 'Take one role from a user',
      description:
        'Idempotent: taking a role the user does not hold changes nothing. Unknown user or role: 404. Taking admin ' +
        'from the last enabled admin: 409. Needs `roles:write`; taking `admin` needs the caller to hold `admin` (403).' +
        ' The caller must hold every permission the user holds, and `admin` if the user holds it (403 `target-stronger`).',
      security: bearer,
      middleware: [rolesWrite] as const,
      request: { params: UserRoleParams },
      responses: { 204: { description: 'The user does not hold the role' }, ...problems(401, 403, 404, 409) },
    }),
    (c) =>
      changeOneRole(c, c.req.valid('param'), 'role.unassign', (g, id) => g.mayUnassign(id), sql`delete from users_roles
        where user_id = (select id from u) and role_id = (select id from r) returning user_id`),
  );
