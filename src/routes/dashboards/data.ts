import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { Context } from 'hono';
import { guarded, requirePermission } from '../../auth/authorize';
import { eventQuery } from '../../events/query/schema';
import { eventQueryStatement, zoneChecked, type PreparedQuery } from '../../events/query/run';
import type { AppEnv } from '../../env';
import { describeError } from '../../lib/db-errors';
import { ApiError, notFound, problemJson } from '../../lib/errors';
import { fieldErrors } from '../../lib/validation';
import { bearer, jsonResponse, Problem, problems } from '../../lib/openapi';
import { sha256Hex } from '../../lib/sql';
import { dashboardId, DashboardIdParam, visibleTo } from './schema';

const UNITS = { h: 'hour', d: 'day', w: 'week', m: 'month' } as const;

const DataQuery = z
  .object({
    refresh: z.enum(['true', 'false']).optional().openapi({ description: '`true` computes the figures now instead of reading the cache.' }),
    last: z
      .string()
      .regex(/^[1-9][0-9]{0,3}[hdwm]$/, 'must be a count and a unit: 24h, 7d, 12w, 3m')
      .optional()
      .openapi({ example: '7d', description: 'Range override for every widget: the current unit and the n−1 before it (§14 `last`).' }),
    from: z.string().optional().openapi({ description: 'Range override (with `to`): ISO 8601 instants, as §14 `from`/`to`.' }),
    to: z.string().optional(),
  })
  .superRefine((q, ctx) => {
    if (q.last !== undefined && (q.from !== undefined || q.to !== undefined)) ctx.addIssue({ code: 'custom', path: ['last'], message: 'give last, or from and to, not both' });
    if ((q.from === undefined) !== (q.to === undefined)) ctx.addIssue({ code: 'custom', path: [q.from === undefined ? 'from' : 'to'], message: 'from and to go together' });
  });

const WidgetData = z.object({
  widgetId: z.string(),
  result: z.record(z.string(), z.unknown()).nullable().openapi({ description: 'The §14 result of the widget’s query.' }),
  error: Problem.nullable().openapi({ description: 'Why this widget has no result (e.g. its query no longer holds: 422).' }),
});
const DashboardData = z.object({ data: z.array(WidgetData), computedAt: z.string() }).openapi('DashboardData');
type DashboardDataJson = z.infer<typeof DashboardData>;

type Stored = { id: string; query: Record<string, unknown> };

/**
 * The cache key of a dashboard's figures: the database (tests and deployments never share), the dashboard, its
 * version and last save, and the range override. Nothing of the caller: the key is only ever looked up after the
 * request's own statement found that this caller sees this dashboard now, so the cache holds figures, never access.
 */
async function cacheKey(c: Context<AppEnv>, id: number, stamp: string, override: string): Promise<string> {
  const database = (await sha256Hex(c.var.config.DATABASE_URL)).slice(0, 24);
  return `https://dashboard-data.internal/${database}/${id}/${stamp}?range=${encodeURIComponent(override)}`;
}

/** The widget's stored query with the range override in place of its own range. */
function withRange(query: Record<string, unknown>, range: { last?: string; from?: string; to?: string }): Record<string, unknown> {
  if (range.last) {
    const { from: _f, to: _t, ...rest } = query;
    return { ...rest, last: { count: Number(range.last.slice(0, -1)), unit: UNITS[range.last.slice(-1) as keyof typeof UNITS] } };
  }
  if (range.from !== undefined) {
    const { last: _l, ...rest } = query;
    return { ...rest, from: range.from, to: range.to };
  }
  return query;
}

const asProblem = (c: Context<AppEnv>, widgetId: string, error: unknown) => {
  if (error instanceof ApiError) return problemJson(error.status, error.slug, error.detail, error.errors);
  console.error(JSON.stringify({ level: 'error', msg: 'dashboard widget failed', requestId: c.get('requestId'), widgetId, error: describeError(error) }));
  return problemJson(500, 'internal-error', `This widget could not be computed. Quote request id ${c.get('requestId')} when reporting it.`);
};

/** A refusal of the caller check (401/403) is the request's answer, not one widget's. */
const isRefusal = (error: unknown) => error instanceof ApiError && (error.status === 401 || error.status === 403);

/**
 * Every widget's figures. The valid queries run together as scalar subqueries of one guarded statement; should that
 * statement fail (a timeout, a zone the database lacks), each runs alone so that only the failing one reports it.
 */
async function compute(c: Context<AppEnv>, widgets: Stored[], range: { last?: string; from?: string; to?: string }): Promise<DashboardDataJson> {
  const data: DashboardDataJson['data'] = widgets.map((w) => ({ widgetId: w.id, result: null, error: null }));
  const prepared: { index: number; query: PreparedQuery }[] = [];
  widgets.forEach((w, index) => {
    const parsed = eventQuery.safeParse(withRange(w.query, range));
    if (parsed.success) prepared.push({ index, query: eventQueryStatement(parsed.data) });
    else data[index]!.error = problemJson(422, 'validation-error', 'This widget’s query no longer holds.', fieldErrors(parsed.error));
  });
  const decode = (index: number, query: PreparedQuery, raw: unknown) => {
    try {
      data[index]!.result = query.decode(raw) as unknown as Record<string, unknown>;
    } catch (error) {
      data[index]!.error = asProblem(c, widgets[index]!.id, error);
    }
  };
  const computedAt = new Date().toISOString();
  if (prepared.length === 0) return { data, computedAt };
  try {
    const row = await zoneChecked(
      guarded<Record<string, unknown>>(c, (g) => sql`with ${g.cte} select ${g.outcome}, ${sql.join(
        prepared.map((p, i) => sql`(select q.result from (${p.query.statement}) q where ${g.ok}) as ${sql.raw(`w${i}`)}`),
        sql`, `,
      )}`),
    );
    prepared.forEach((p, i) => decode(p.index, p.query, row[`w${i}`]));
  } catch (error) {
    if (isRefusal(error)) throw error;
    for (const p of prepared) {
      try {
        const row = await zoneChecked(
          guarded<{ result: unknown }>(c, (g) => sql`with ${g.cte} select ${g.outcome}, (select q.result from (${p.query.statement}) q where ${g.ok}) as result`),
        );
        decode(p.index, p.query, row.result);
      } catch (failure) {
        if (isRefusal(failure)) throw failure;
        data[p.index]!.error = asProblem(c, widgets[p.index]!.id, failure);
      }
    }
  }
  return { data, computedAt };
}

export const dashboardData = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'get',
    path: '/{id}/data',
    tags: ['Dashboards'],
    summary: 'Every widget’s figures',
    description:
      'For anyone who sees the dashboard; no `events:read` needed (sharing a dashboard shares its figures). Each widget ' +
      'gets its §14 `result`, or its problem as `error` (one widget’s failure fails no other). Figures may be up to ' +
      '`DASHBOARD_CACHE_SECONDS` old (`computedAt` says when they were computed); `?refresh=true` recomputes. Who sees ' +
      'the dashboard is decided in the database on every request, cached or not.',
    security: bearer,
    middleware: [requirePermission(null)] as const,
    request: { params: DashboardIdParam, query: DataQuery },
    responses: { 200: jsonResponse(DashboardData, 'The figures'), ...problems(400, 401, 404, 422) },
  }),
  async (c) => {
    const id = dashboardId(c.req.valid('param').id);
    const { refresh, ...range } = c.req.valid('query');
    const { dashboard } = await guarded<{ dashboard: { stamp: string; widgets: Stored[] } | null }>(c, (g) => sql`
      with ${g.cte}
      select ${g.outcome}, (select json_build_object('stamp', d.version || '-' || (extract(epoch from d.updated_at) * 1000000)::bigint, 'widgets', d.widgets)
        from dashboards d where d.id = ${id} and ${g.ok} and ${visibleTo(sql`d`, g.id, g.isAdmin)}) as dashboard`);
    if (!dashboard) throw notFound('No such dashboard.');
    const ttl = c.var.config.DASHBOARD_CACHE_SECONDS;
    const key = ttl > 0 ? await cacheKey(c, id, dashboard.stamp, JSON.stringify(range)) : null;
    if (key && refresh !== 'true') {
      const hit = await caches.default.match(key);
      if (hit) return c.json((await hit.json()) as DashboardDataJson, 200);
    }
    const body = await compute(c, dashboard.widgets, range);
    if (key) {
      const stored = new Response(JSON.stringify(body), { headers: { 'Content-Type': 'application/json', 'Cache-Control': `max-age=${ttl}` } });
      c.executionCtx.waitUntil(caches.default.put(key, stored));
    }
    return c.json(body, 200);
  },
);
