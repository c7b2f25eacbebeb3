import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, guardedRows, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { decodeCursor, PageQuery, pageFrom } from '../../lib/cursor';
import { notFound } from '../../lib/errors';
import { bearer, jsonResponse, problems } from '../../lib/openapi';
import { userJson } from '../../lib/sql';
import { type RoleHolder, RoleHolderPage, roleName, RoleParam } from './schema';

export const roleUsers = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'get',
    path: '/{role}/users',
    tags: ['Roles'],
    summary: 'Users holding a role, by id',
    description:
      'Keyset-paginated in ascending user id. A cursor is bound to its role. Full users to a caller who holds `users:read` ' +
      'when the request runs; to anyone else, only each holder\'s id and name.',
    security: bearer,
    middleware: [requirePermission('roles:read')] as const,
    request: { params: RoleParam, query: PageQuery },
    responses: { 200: jsonResponse(RoleHolderPage, 'A page of holders'), ...problems(400, 401, 403, 404, 422) },
  }),
  async (c) => {
    const name = roleName(c.req.valid('param').role);
    const { limit, cursor } = c.req.valid('query');
    const config = c.var.config;
    const kind = `role-users:${name}`;
    const after = cursor ? (await decodeCursor(config, kind, 'id', cursor)).id : 0;
    // One statement answers both "does the role exist?" and the page. The holders are walked on the
    // (role_id, user_id) index and limited before users are joined, so each shown user is one primary-key lookup.
    // Emails and sign-in times are users:read's to see (§8): a roles:read holder without it gets names only, decided
    // on the caller's permissions now, in the same statement.
    const rows = await guardedRows<{ role_id: number | null; id: number | null; user: RoleHolder | null }>(c, (g) => sql`
      select r.id as role_id, h.user_id as id,
        case when u.id is null then null
             when 'users:read' = any (${g.permissions}) then ${userJson('u')}
             else json_build_object('id', u.id, 'name', u.name) end as user
      from (select 1) one
      left join roles r on r.name = ${name}
      left join lateral (
        select ur.user_id from users_roles ur where ur.role_id = r.id and ur.user_id > ${after} order by ur.user_id limit ${limit + 1}
      ) h on true
      left join users u on u.id = h.user_id
      order by h.user_id`);
    if (rows[0]?.role_id == null) throw notFound('No such role.');
    const holders = rows.filter((r) => r.user !== null);
    const page = await pageFrom(config, kind, 'id', holders, limit, (r) => r.user!, (r) => ({ values: [], id: r.id! }));
    return c.json(page, 200);
  },
);
