import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { auditInsert } from '../../lib/audit';
import { bearer, jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { mayQuery, refuseInvalid, saveChecks, type SaveAnswers } from './checks';
import { editable, editRefusal, type EditAnswers, IfMatchHeader, preconditionFailed } from './edit';
import { Dashboard, DashboardBody, dashboardId, DashboardIdParam, dashboardJson, etagOf, storedWidgets, type DashboardJson } from './schema';

export const updateDashboard = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'put',
    path: '/{id}',
    tags: ['Dashboards'],
    summary: 'Replace a dashboard',
    description:
      'Its owner (with `dashboards:write` and `events:read`) or `admin`: replaces name, description, shares and widgets ' +
      '(an omitted optional field takes its default). A widget sent with an `id` keeps it; one without gets a new one. ' +
      'With `If-Match` naming an older version: 412, and nothing changes. 404 for a dashboard the caller does not see, ' +
      '403 for one they see but may not edit.',
    security: bearer,
    middleware: [requirePermission('dashboards:write')] as const,
    request: { params: DashboardIdParam, headers: IfMatchHeader, body: jsonBody(DashboardBody) },
    responses: {
      200: { ...jsonResponse(Dashboard, 'The dashboard as saved'), headers: { ETag: { schema: { type: 'string' } } } },
      ...problems(400, 401, 403, 404, 413, 415, 422),
      ...preconditionFailed,
    },
  }),
  async (c) => {
    const id = dashboardId(c.req.valid('param').id);
    const body = c.req.valid('json');
    const checks = saveChecks(body);
    const widgets = JSON.stringify(storedWidgets(body.widgets));
    const shares = sql`${sql.param(body.shares)}::text[]`;
    // `cur` locks the row, so concurrent saves of one dashboard run one after the other and each judges If-Match
    // against the version the previous one committed.
    const row = await guarded<EditAnswers & SaveAnswers & { dashboard: DashboardJson | null }>(c, (g) => sql`
      with ${g.cte}, ${checks.ctes}, ${editable(c, g, id, mayQuery(g))},
      old as (
        select cur.*, array(select r.name from dashboard_shares s join roles r on r.id = s.role_id
                            where s.dashboard_id = cur.id order by r.name collate "C") as old_shares
        from cur
      ), u as (
        update dashboards d set name = ${body.name}, description = ${body.description}, widgets = ${widgets}::jsonb,
          version = d.version + 1, updated_at = now()
        from old where d.id = old.id and (select may from verdict) and (select fresh from verdict) and ${checks.valid}
        returning d.*, old.old_shares, (old.name, old.description, old.widgets) is distinct from (d.name, d.description, d.widgets) as content_changed
      ), unshared as (
        delete from dashboard_shares s using u where s.dashboard_id = u.id and s.role_id <> all (array(select id from wanted_roles))
      ), shared as (
        insert into dashboard_shares (dashboard_id, role_id) select u.id, r.id from u, wanted_roles r on conflict do nothing
      ), audit_update as (${auditInsert(c, 'dashboard.update', {
        actor: g.id,
        targetType: 'dashboard',
        targetId: sql`id`,
        details: sql`json_build_object('name', name, 'version', version, 'widgets', jsonb_array_length(widgets))`,
        from: sql`u where content_changed`,
      })}), audit_share as (${auditInsert(c, 'dashboard.share', {
        actor: g.id,
        targetType: 'dashboard',
        targetId: sql`id`,
        details: sql`json_build_object('shares', to_json(${shares}), 'added', to_json(array(select unnest(${shares}) except select unnest(old_shares))),
          'removed', to_json(array(select unnest(old_shares) except select unnest(${shares}))), 'version', version)`,
        from: sql`u where old_shares <> ${shares}`,
      })})
      select ${g.outcome}, ${checks.answers}, (select found from verdict) as found, (select may from verdict) as may,
        (select fresh from verdict) as fresh, (select version from verdict) as version,
        (select ${dashboardJson('u', sql`to_json(${shares})`)} from u) as dashboard`);
    editRefusal(row);
    refuseInvalid(row);
    const dashboard = row.dashboard!;
    c.header('ETag', etagOf(dashboard.version));
    return c.json(dashboard, 200);
  },
);
