import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, guardedRows, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { bearer, jsonResponse, problems } from '../../lib/openapi';
import { Role, roleJson, type RoleJson } from './schema';

export const listRoles = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'get',
    path: '/',
    tags: ['Roles'],
    summary: 'All roles with their user counts, ordered by name',
    security: bearer,
    middleware: [requirePermission('roles:read')] as const,
    responses: {
      200: jsonResponse(z.object({ data: z.array(Role) }).openapi('RoleList'), 'Every role'),
      ...problems(401, 403),
    },
  }),
  async (c) => {
    // Counted in one pass over users_roles rather than one subquery per role.
    const { roles } = await guarded<{ roles: RoleJson[] }>(c, (g) => sql`
      with ${g.cte}
      select ${g.outcome}, (select coalesce(json_agg(${roleJson('r', sql`coalesce(n.count, 0)::int`)} order by r.name), '[]'::json) as roles
      from roles r left join (select role_id, count(*) from users_roles group by role_id) n on n.role_id = r.id) as roles`);
    return c.json({ data: roles }, 200);
  },
);
