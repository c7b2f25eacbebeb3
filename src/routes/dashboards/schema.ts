import { z } from '@hono/zod-openapi';
import { sql, type SQL } from 'drizzle-orm';
import { notFound } from '../../lib/errors';
import { iso } from '../../lib/sql';
import { codePoints, Name, storable } from '../../lib/user';
import { RoleName } from '../roles/schema';
import { WidgetQuery } from './query';

/** Contract §15: at most 24 widgets on a dashboard (the table checks it too). */
export const MAX_WIDGETS = 24;
/** The console's grid: 12 columns; a widget's height in rows of the grid. */
export const GRID_COLUMNS = 12;

export const VIZ = ['number', 'line', 'bar', 'table', 'funnel', 'retention'] as const;

/** Which query kinds each visualisation can draw (a table draws any of them). */
const VIZ_KINDS: Record<(typeof VIZ)[number], readonly string[]> = {
  number: ['trends'],
  line: ['trends'],
  bar: ['trends'],
  table: ['trends', 'funnel', 'retention'],
  funnel: ['funnel'],
  retention: ['retention'],
};

export const WidgetId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1..64 of A-Z, a-z, 0-9, _ or -')
  .openapi({ example: 'w3f9c2a1b7e4d', description: 'Stable: kept across saves. Sent without one, a widget gets a new id.' });

const Layout = z
  .strictObject({
    x: z.number().int().min(0).max(GRID_COLUMNS - 1),
    y: z.number().int().min(0).max(999),
    w: z.number().int().min(1).max(GRID_COLUMNS),
    h: z.number().int().min(1).max(24),
  })
  .refine((l) => l.x + l.w <= GRID_COLUMNS, { path: ['w'], message: `x + w must be at most ${GRID_COLUMNS}` })
  .openapi('WidgetLayout', { description: 'Grid cell: 12 columns (x 0..11, w 1..12, x + w ≤ 12), rows from y = 0 (h 1..24).' });

const Title = z
  .string()
  .trim()
  .refine((s) => codePoints(s) >= 1, 'must not be empty')
  .refine((s) => codePoints(s) <= 200, 'must be at most 200 characters')
  .refine(...storable);

export const WidgetIn = z
  .strictObject({
    id: WidgetId.optional(),
    title: Title,
    viz: z.enum(VIZ),
    query: WidgetQuery,
    layout: Layout.optional(),
  })
  .superRefine((w, ctx) => {
    const kind = w.query.kind;
    if (!VIZ_KINDS[w.viz].includes(kind)) {
      ctx.addIssue({ code: 'custom', path: ['viz'], message: `a ${w.viz} cannot draw a ${kind} query (${VIZ.filter((v) => VIZ_KINDS[v].includes(kind)).join(', ')} can)` });
    }
  });

export type WidgetInput = z.infer<typeof WidgetIn>;

export const Widget = z
  .object({
    id: z.string(),
    title: z.string(),
    viz: z.enum(VIZ),
    query: z.record(z.string(), z.unknown()).openapi({ description: 'A §14 query (POST /v1/events/query).' }),
    layout: z.object({ x: z.number().int(), y: z.number().int(), w: z.number().int(), h: z.number().int() }).optional(),
  })
  .openapi('Widget');

const Description = z
  .string()
  .refine((s) => codePoints(s) <= 1000, 'must be at most 1000 characters')
  .refine(...storable)
  .nullable();

/** POST and PUT take the same body: PUT replaces the whole dashboard (an omitted optional field takes its default). */
export const DashboardBody = z
  .strictObject({
    name: Name,
    description: Description.default(null),
    shares: z
      .array(RoleName)
      .max(100)
      .default([])
      .transform((names) => [...new Set(names)].sort())
      .openapi({ description: 'Role names whose holders see the dashboard; an unknown role is a 422 at `shares`.' }),
    widgets: z
      .array(WidgetIn)
      .max(MAX_WIDGETS, `at most ${MAX_WIDGETS} widgets`)
      .default([])
      .superRefine((widgets, ctx) => {
        const seen = new Set<string>();
        widgets.forEach((w, i) => {
          if (w.id === undefined) return;
          if (seen.has(w.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: 'is the id of another widget of this dashboard' });
          seen.add(w.id);
        });
      }),
  })
  .openapi('DashboardRequest');

export type DashboardInput = z.infer<typeof DashboardBody>;

export const Dashboard = z
  .object({
    id: z.number().int().openapi({ example: 3 }),
    name: z.string().openapi({ example: 'Activation' }),
    description: z.string().nullable(),
    ownerId: z.number().int().nullable().openapi({ description: 'null once the owner’s account is deleted.' }),
    shares: z.array(z.string()).openapi({ example: ['viewer'] }),
    widgets: z.array(Widget),
    createdAt: z.string(),
    updatedAt: z.string(),
    version: z.number().int().openapi({ example: 4, description: 'Counts the saves; the ETag is made from it.' }),
  })
  .openapi('Dashboard');

export type DashboardJson = z.infer<typeof Dashboard>;

export const DashboardIdParam = z.object({
  id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: '3' }),
});

/** A dashboard id from the path: anything that cannot be one is simply not found. */
export function dashboardId(text: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(text) || Number(text) > 2147483647) throw notFound('No such dashboard.');
  return Number(text);
}

/** Strong ETag of a dashboard version. */
export const etagOf = (version: number) => `"v${version}"`;

/**
 * The versions an If-Match header accepts: null for none given or `*` (any version); otherwise the versions it
 * names (possibly none, when it names only ETags this API never issued: nothing can match, 412).
 */
export function ifMatchVersions(header: string | undefined): number[] | null {
  if (header === undefined || header.trim() === '*') return null;
  return [...header.matchAll(/(?:W\/)?"v([0-9]{1,10})"/g)].map((m) => Number(m[1])).filter((v) => v <= 2147483647);
}

/**
 * Whether the caller sees the dashboard row `d` (contract §15): its owner, a holder of a role it is shared with, or
 * an admin. `uid` and `isAdmin` come from the request's guard.
 */
export function visibleTo(d: SQL, uid: SQL, isAdmin: SQL): SQL {
  return sql`(${d}.owner_id = ${uid} or ${isAdmin} or exists (
    select 1 from dashboard_shares s join users_roles ur on ur.role_id = s.role_id
    where s.dashboard_id = ${d}.id and ur.user_id = ${uid}))`;
}

/** The shares of dashboard `d` as sorted role names (json), from the statement's snapshot. */
export const sharesOf = (d: SQL) =>
  sql`coalesce((select json_agg(r.name order by r.name collate "C") from dashboard_shares s join roles r on r.id = s.role_id
                where s.dashboard_id = ${d}.id), '[]'::json)`;

/** The contract's Dashboard object built in SQL; a statement that changes the shares passes the new ones. */
export function dashboardJson(alias: string, shares?: SQL): SQL {
  const d = sql.raw(alias);
  return sql`json_build_object('id', ${d}.id, 'name', ${d}.name, 'description', ${d}.description, 'ownerId', ${d}.owner_id,
    'shares', ${shares ?? sharesOf(d)}, 'widgets', ${d}.widgets, 'createdAt', ${iso(sql`${d}.created_at`)},
    'updatedAt', ${iso(sql`${d}.updated_at`)}, 'version', ${d}.version)`;
}

/** A new widget id: 12 random hex digits prefixed with `w` (unique within a dashboard is all it needs). */
const newWidgetId = () => `w${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`;

/** The widgets as stored: each with its id (kept, or new), title, viz, query, and layout when given. */
export function storedWidgets(widgets: WidgetInput[]): unknown[] {
  const taken = new Set(widgets.map((w) => w.id).filter((id) => id !== undefined));
  return widgets.map((w) => {
    let id = w.id;
    while (id === undefined || (w.id === undefined && taken.has(id))) id = newWidgetId();
    taken.add(id);
    return { id, title: w.title, viz: w.viz, query: w.query, ...(w.layout ? { layout: w.layout } : {}) };
  });
}

/**
 * Every source id the widgets' queries name, with the widget's index and its position in `sources`, for the save's
 * statement to find those that do not exist (or are deleted): a 422 at `widgets.N.query.sources.i`.
 */
export function namedSources(widgets: WidgetInput[]): { w: number; i: number; id: number }[] {
  return widgets.flatMap((w, index) => (w.query.sources ?? []).map((id, i) => ({ w: index, i, id })));
}
