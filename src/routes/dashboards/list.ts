import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guardedRows, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { decodeCursor, PageQuery, pageFrom, pageOf } from '../../lib/cursor';
import { bearer, jsonResponse, problems } from '../../lib/openapi';
import { Dashboard, dashboardJson, visibleTo, type DashboardJson } from './schema';

const KIND = 'dashboards';
const SORT = 'id';

export const listDashboards = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'get',
    path: '/',
    tags: ['Dashboards'],
    summary: 'The dashboards the caller sees',
    description: 'Any signed-in caller: the dashboards they own, those shared with a role they hold, or all for `admin`; by id.',
    security: bearer,
    middleware: [requirePermission(null)] as const,
    request: { query: PageQuery },
    responses: { 200: jsonResponse(pageOf(Dashboard, 'DashboardPage'), 'A page of dashboards'), ...problems(400, 401, 422) },
  }),
  async (c) => {
    const { limit, cursor } = c.req.valid('query');
    const config = c.var.config;
    const after = cursor ? (await decodeCursor(config, KIND, SORT, cursor)).id : 0;
    const rows = await guardedRows<{ id: number; dashboard: DashboardJson }>(c, (g) => sql`
      select d.id, ${dashboardJson('d')} as dashboard from dashboards d
      where d.id > ${after} and ${visibleTo(sql`d`, g.id, g.isAdmin)}
      order by d.id limit ${limit + 1}`);
    const page = await pageFrom(config, KIND, SORT, rows, limit, (r) => r.dashboard, (r) => ({ values: [], id: r.id }));
    return c.json(page, 200);
  },
);
