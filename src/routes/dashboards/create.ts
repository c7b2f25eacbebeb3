import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { bearer, jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { cannotQuery, mayQuery, refuseInvalid, saveChecks, type SaveAnswers } from './checks';
import { Dashboard, DashboardBody, dashboardJson, etagOf, storedWidgets, type DashboardJson } from './schema';

export const createDashboard = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'post',
    path: '/',
    tags: ['Dashboards'],
    summary: 'Create a dashboard',
    description:
      'Needs `dashboards:write` and `events:read`; the caller becomes its owner. Widgets without an `id` get one. ' +
      'An unknown role in `shares`, or a widget query naming a source that does not exist, is a 422.',
    security: bearer,
    middleware: [requirePermission('dashboards:write')] as const,
    request: { body: jsonBody(DashboardBody) },
    responses: { 201: jsonResponse(Dashboard, 'The new dashboard'), ...problems(400, 401, 403, 413, 415, 422) },
  }),
  async (c) => {
    const body = c.req.valid('json');
    const checks = saveChecks(body);
    const row = await guarded<SaveAnswers & { may: boolean; dashboard: DashboardJson | null }>(c, (g) => sql`
      with ${g.cte}, ${checks.ctes},
      d as (
        insert into dashboards (name, description, owner_id, widgets)
        select ${body.name}, ${body.description}, ${g.id}, ${JSON.stringify(storedWidgets(body.widgets))}::jsonb
        where ${g.ok} and ${mayQuery(g)} and ${checks.valid}
        returning *
      ), shared as (
        insert into dashboard_shares (dashboard_id, role_id) select d.id, r.id from d, wanted_roles r
      ), audit as (${auditInsert(c, 'dashboard.create', {
        actor: g.id,
        targetType: 'dashboard',
        targetId: sql`id`,
        details: sql`json_build_object('name', name, 'shares', to_json(${sql.param(body.shares)}::text[]), 'widgets', jsonb_array_length(widgets))`,
        from: sql`d`,
      })})
      select ${g.outcome}, ${mayQuery(g)} as may, ${checks.answers},
        (select ${dashboardJson('d', sql`to_json(${sql.param(body.shares)}::text[])`)} from d) as dashboard`);
    if (!row.may) throw cannotQuery();
    refuseInvalid(row);
    const dashboard = row.dashboard!;
    c.header('ETag', etagOf(dashboard.version));
    c.header('Location', `/v1/dashboards/${dashboard.id}`);
    return c.json(dashboard, 201);
  },
);
