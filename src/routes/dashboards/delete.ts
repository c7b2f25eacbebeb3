import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { bearer, problems } from '../../lib/openapi';
import { mayQuery } from './checks';
import { editable, editRefusal, type EditAnswers, IfMatchHeader, preconditionFailed } from './edit';
import { dashboardId, DashboardIdParam } from './schema';

export const deleteDashboard = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'delete',
    path: '/{id}',
    tags: ['Dashboards'],
    summary: 'Delete a dashboard',
    description: 'Its owner (with `dashboards:write` and `events:read`) or `admin`. `If-Match`, when sent, must name the current version (412).',
    security: bearer,
    middleware: [requirePermission('dashboards:write')] as const,
    request: { params: DashboardIdParam, headers: IfMatchHeader },
    responses: { 204: { description: 'Deleted' }, ...problems(401, 403, 404), ...preconditionFailed },
  }),
  async (c) => {
    const id = dashboardId(c.req.valid('param').id);
    const row = await guarded<EditAnswers>(c, (g) => sql`
      with ${g.cte}, ${editable(c, g, id, mayQuery(g))},
      d as (
        delete from dashboards using verdict where dashboards.id = ${id} and verdict.may and verdict.fresh
        returning dashboards.id, dashboards.name, dashboards.owner_id
      ), audit as (${auditInsert(c, 'dashboard.delete', {
        actor: g.id,
        targetType: 'dashboard',
        targetId: sql`id`,
        details: sql`json_build_object('name', name, 'ownerId', owner_id)`,
        from: sql`d`,
      })})
      select ${g.outcome}, (select found from verdict) as found, (select may from verdict) as may,
        (select fresh from verdict) as fresh, (select version from verdict) as version`);
    editRefusal(row);
    return c.body(null, 204);
  },
);
