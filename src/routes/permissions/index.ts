import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, requirePermission } from '../../auth/authorize';
import { PERMISSION_NAMES } from '../../auth/permissions';
import type { AppEnv } from '../../env';
import { bearer, jsonResponse, problems } from '../../lib/openapi';

const Permission = z
  .object({
    name: z.enum(PERMISSION_NAMES as [string, ...string[]]).openapi({ example: 'users:read' }),
    description: z.string().openapi({ example: 'List and read users' }),
  })
  .openapi('Permission');

type PermissionJson = z.infer<typeof Permission>;

/** Contract §8: the catalog, for any caller with a live session. Read from the table the grants reference. */
export const permissionsRoutes = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'get',
    path: '/',
    tags: ['Roles'],
    summary: 'The permission catalog, ordered by name',
    description: 'What roles can grant. Any signed-in caller.',
    security: bearer,
    middleware: [requirePermission(null)] as const,
    responses: {
      200: jsonResponse(z.object({ data: z.array(Permission) }).openapi('PermissionList'), 'Every permission'),
      ...problems(401, 403),
    },
  }),
  async (c) => {
    const { data } = await guarded<{ data: PermissionJson[] }>(c, (g) => sql`
      with ${g.cte}
      select ${g.outcome},
        (select json_agg(json_build_object('name', name, 'description', description) order by name) from permissions) as data`);
    return c.json({ data }, 200);
  },
);
