import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { conflict, notFound } from '../../lib/errors';
import { bearer, problems } from '../../lib/openapi';
import { requireRole } from '../../middleware/auth';
import { BUILT_IN_ROLES, roleName, RoleParam } from './schema';

export const deleteRole = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'delete',
    path: '/{role}',
    tags: ['Roles'],
    summary: 'Delete a role and its assignments',
    description:
      'The built-in roles (admin, analyst, viewer) cannot be deleted (409). The users who held the role lose it, ' +
      'and, as with any change of a user’s roles, their sessions are revoked.',
    security: bearer,
    middleware: [requireRole('admin')] as const,
    request: { params: RoleParam },
    responses: { 204: { description: 'Deleted' }, ...problems(401, 403, 404, 409) },
  }),
  async (c) => {
    const name = roleName(c.req.valid('param').role);
    if ((BUILT_IN_ROLES as readonly string[]).includes(name)) throw conflict(`The built-in role ${name} cannot be deleted.`, 'built-in-role');
    // The assignments go by the foreign key's cascade; `holders` is read from the snapshot before it.
    const rows = await c.var.db.execute<{ id: number }>(sql`
      with holders as (
        select ur.user_id from users_roles ur join roles r on r.id = ur.role_id where r.name = ${name}
      ), r as (
        delete from roles where name = ${name} returning id, name
      ), ended as (
        update sessions set revoked_at = now()
        where user_id in (select user_id from holders) and revoked_at is null and exists (select 1 from r)
      ), audit as (${auditInsert(c, 'role.delete', {
        actor: sql`${c.var.caller.id}::int`,
        targetType: 'role',
        targetId: sql`id`,
        details: sql`json_build_object('name', name, 'users', (select count(*) from holders))`,
        from: sql`r`,
      })})
      select id from r`);
    if (!rows.rows[0]) throw notFound('No such role.');
    return c.body(null, 204);
  },
);
