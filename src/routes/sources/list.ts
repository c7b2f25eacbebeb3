import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { bearer, jsonResponse, problems } from '../../lib/openapi';
import { Source, sourceJson, type SourceJson } from './schema';

export const listSources = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'get',
    path: '/',
    tags: ['Sources'],
    summary: 'Every live source, ordered by id',
    description: 'Needs `events:read`. Deleted sources are not listed.',
    security: bearer,
    middleware: [requirePermission('events:read')] as const,
    responses: {
      200: jsonResponse(z.object({ data: z.array(Source) }).openapi('SourceList'), 'Every source'),
      ...problems(401, 403),
    },
  }),
  async (c) => {
    const { sources } = await guarded<{ sources: SourceJson[] }>(c, (g) => sql`
      with ${g.cte}
      select ${g.outcome}, (select coalesce(json_agg(${sourceJson('s')} order by s.id), '[]'::json)
        from sources s where s.deleted_at is null) as sources`);
    return c.json({ data: sources }, 200);
  },
);
