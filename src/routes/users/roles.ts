import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql, type SQL } from 'drizzle-orm';
import type { Context } from 'hono';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { notFound, validationFailed } from '../../lib/errors';
import { bearer, jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { userJson } from '../../lib/sql';
import { User, type UserJson } from '../../lib/user';
import { requireRole } from '../../middleware/auth';
import { roleName } from '../roles/schema';
import { refusalsAsProblems } from './conflicts';
import { ReplaceRolesBody, UserIdParam, userId, UserRoleParams } from './schema';

const admin = requireRole('admin');

/** Ends the sessions of the users in `changed` (a CTE returning user_id): changing roles revokes refresh tokens. */
const endSessions = (changed: string) =>
  sql`update sessions set revoked_at = now() where user_id in (select user_id from ${sql.raw(changed)}) and revoked_at is null`;

/**
 * Grants or takes one role in one statement: `change` runs over the CTEs `u` (the user) and `r` (the role) and
 * returns the user_id it changed, if any; the user's sessions end and an audit row is written only when it did.
 * 404 when the user or the role does not exist; the last-admin trigger's refusal becomes a 409.
 */
async function changeOneRole(
  c: Context<AppEnv>,
  params: { id: string; role: string },
  action: 'role.assign' | 'role.unassign',
  change: SQL,
) {
  const id = userId(params.id);
  const role = roleName(params.role);
  const rows = await refusalsAsProblems(
    c.var.db.execute<{ user: boolean; role: boolean }>(sql`
      with u as (select id from users where id = ${id}),
      r as (select id from roles where name = ${role}),
      changed as (${change}),
      ended as (${endSessions('changed')}),
      audit as (${auditInsert(c, action, {
        actor: sql`${c.var.caller.id}::int`,
        targetType: 'user',
        targetId: sql`user_id`,
        details: sql`json_build_object('role', ${role}::text)`,
        from: sql`changed`,
      })})
      select exists (select 1 from u) as user, exists (select 1 from r) as role`),
  );
  const row = rows.rows[0]!;
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
        'set changes, the user’s sessions are revoked and one role.assign / role.unassign audit row is written per role.',
      security: bearer,
      middleware: [admin] as const,
      request: { params: UserIdParam, body: jsonBody(ReplaceRolesBody) },
      responses: { 200: jsonResponse(User, 'The user with the new roles'), ...problems(400, 401, 403, 404, 409, 413, 415, 422) },
    }),
    async (c) => {
      const id = userId(c.req.valid('param').id);
      const { roles } = c.req.valid('json');
      const actor = sql`${c.var.caller.id}::int`;
      // Unknown roles stop everything (the function gets no user); the replace itself runs in replace_user_roles()
      // (drizzle/0001), which locks the user first so that concurrent replaces serialise instead of mixing.
      const rows = await refusalsAsProblems(
        c.var.db.execute<{ found: boolean; unknown: string[]; user: UserJson | null }>(sql`
          with wanted as (select unnest(${sql.param(roles)}::text[]) as name),
          known as (select r.id, r.name from roles r where r.name in (select name from wanted)),
          unknown as (select name from wanted where name not in (select name from known)),
          target as (select id from users where id = ${id}),
          changes as materialized (
            select * from replace_user_roles(
              (select id from target where not exists (select 1 from unknown)),
              array(select name from known))
          ), ended as (
            update sessions set revoked_at = now()
            where user_id = (select id from target) and revoked_at is null and exists (select 1 from changes)
          ), audit_assign as (${auditInsert(c, 'role.assign', {
            actor,
            targetType: 'user',
            targetId: sql`${id}::int`,
            details: sql`json_build_object('role', role_name)`,
            from: sql`changes where added`,
          })}),
          audit_unassign as (${auditInsert(c, 'role.unassign', {
            actor,
            targetType: 'user',
            targetId: sql`${id}::int`,
            details: sql`json_build_object('role', role_name)`,
            from: sql`changes where not added`,
          })})
          select exists (select 1 from target) as found,
            array(select name from unknown order by name) as unknown,
            (select ${userJson('u', sql`(select coalesce(json_agg(name order by name), '[]'::json) from known)`)}
               from users u where u.id = (select id from target)) as user`),
      );
      const row = rows.rows[0]!;
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
      description: 'Idempotent: granting a role the user holds changes nothing. Unknown user or role: 404.',
      security: bearer,
      middleware: [admin] as const,
      request: { params: UserRoleParams },
      responses: { 204: { description: 'The user holds the role' }, ...problems(401, 403, 404) },
    }),
    (c) =>
      changeOneRole(c, c.req.valid('param'), 'role.assign', sql`insert into users_roles (user_id, role_id)
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
        'from the last enabled admin: 409.',
      security: bearer,
      middleware: [admin] as const,
      request: { params: UserRoleParams },
      responses: { 204: { description: 'The user does not hold the role' }, ...problems(401, 403, 404, 409) },
    }),
    (c) =>
      changeOneRole(c, c.req.valid('param'), 'role.unassign', sql`delete from users_roles
        where user_id = (select id from u) and role_id = (select id from r) returning user_id`),
  );
