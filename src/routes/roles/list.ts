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
    // Counts from role_user_counts (0006_activity): 16 counter rows per role, not every assignment (~145 ms at 1M).
    const { roles } = await guarded<{ roles: RoleJson[] }>(c, (g) => sql`
      with ${g.cte}
      select ${g.outcome}, (select coalesce(json_agg(${roleJson('r')} order by r.name), '[]'::json) from roles r) as roles`);
    return c.json({ data: roles }, 200);
  },
);
