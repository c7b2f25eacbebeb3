import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { AppEnv } from '../../env';
import { bearer, jsonResponse, problems } from '../../lib/openapi';
import { requireRole } from '../../middleware/auth';
import { Role, roleJson, type RoleJson } from './schema';

export const listRoles = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'get',
    path: '/',
    tags: ['Roles'],
    summary: 'All roles with their user counts, ordered by name',
    security: bearer,
    middleware: [requireRole('admin', 'analyst')] as const,
    responses: {
      200: jsonResponse(z.object({ data: z.array(Role) }).openapi('RoleList'), 'Every role'),
      ...problems(401, 403),
    },
  }),
  async (c) => {
    // Counts from role_user_counts (0006_activity): 16 counter rows per role, not every assignment (~145 ms at 1M).
    const rows = await c.var.db.execute<{ roles: RoleJson[] }>(sql`
      select coalesce(json_agg(${roleJson('r')} order by r.name), '[]'::json) as roles from roles r`);
    return c.json({ data: rows.rows[0]!.roles }, 200);
  },
);
