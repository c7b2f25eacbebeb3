import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { notFound } from '../../lib/errors';
import { bearer, jsonResponse, problems } from '../../lib/openapi';
import { Dashboard, dashboardId, DashboardIdParam, dashboardJson, etagOf, visibleTo, type DashboardJson } from './schema';

export const getDashboard = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'get',
    path: '/{id}',
    tags: ['Dashboards'],
    summary: 'Read a dashboard',
    description:
      'For its owner, holders of a role it is shared with, and `admin`; to anyone else it does not exist (404). ' +
      'The `ETag` names this version: send it back as `If-Match` on PUT or DELETE.',
    security: bearer,
    middleware: [requirePermission(null)] as const,
    request: { params: DashboardIdParam },
    responses: {
      200: { ...jsonResponse(Dashboard, 'The dashboard'), headers: { ETag: { schema: { type: 'string' }, description: 'The version, e.g. "v4"' } } },
      ...problems(401, 404),
    },
  }),
  async (c) => {
    const id = dashboardId(c.req.valid('param').id);
    const { dashboard } = await guarded<{ dashboard: DashboardJson | null }>(c, (g) => sql`
      with ${g.cte}
      select ${g.outcome}, (select ${dashboardJson('d')} from dashboards d where d.id = ${id} and ${g.ok} and ${visibleTo(sql`d`, g.id, g.isAdmin)}) as dashboard`);
    if (!dashboard) throw notFound('No such dashboard.');
    c.header('ETag', etagOf(dashboard.version));
    return c.json(dashboard, 200);
  },
);
