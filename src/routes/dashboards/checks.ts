import { sql, type SQL } from 'drizzle-orm';
import type { Guard } from '../../auth/authorize';
import { forbidden, validationFailed, type FieldError } from '../../lib/errors';
import { namedSources, type DashboardInput } from './schema';

/**
 * What a save (POST or PUT) checks in its own statement, beside the caller: the roles `shares` names and the sources
 * the widgets' queries name exist now. Each is a CTE of the statement; `valid` is the condition every write waits for.
 */
export function saveChecks(body: DashboardInput): { ctes: SQL; valid: SQL; answers: SQL } {
  const sources = namedSources(body.widgets);
  const ctes = sql`wanted_roles as (
      select n.name, r.id from unnest(${sql.param(body.shares)}::text[]) n(name) left join roles r on r.name = n.name
    ), named_sources as (
      select x.w, x.i, x.id, exists (select 1 from sources so where so.id = x.id and so.deleted_at is null) as live
      from jsonb_to_recordset(${JSON.stringify(sources)}::jsonb) x(w int, i int, id int)
    )`;
  const valid = sql`(not exists (select 1 from wanted_roles where id is null) and not exists (select 1 from named_sources where not live))`;
  const answers = sql`array(select name from wanted_roles where id is null order by name) as unknown_roles,
    coalesce((select json_agg(json_build_object('w', w, 'i', i) order by w, i) from named_sources where not live), '[]') as unknown_sources`;
  return { ctes, valid, answers };
}

export type SaveAnswers = {
  unknown_roles: string[];
  unknown_sources: { w: number; i: number }[];
};

/** The 422 of a save whose roles or sources do not exist (nothing was written). */
export function refuseInvalid(row: SaveAnswers): void {
  const errors: FieldError[] = [];
  if (row.unknown_roles.length > 0) errors.push({ path: 'shares', message: `unknown role: ${row.unknown_roles.join(', ')}` });
  for (const { w, i } of row.unknown_sources) errors.push({ path: `widgets.${w}.query.sources.${i}`, message: 'is not a source (unknown or deleted)' });
  if (errors.length > 0) throw validationFailed(errors);
}

/** Saving needs `events:read` beside the route's `dashboards:write` (§15): a dashboard's author can run its queries. */
export const mayQuery = (g: Guard) => sql`('events:read' = any (${g.permissions}))`;

export const cannotQuery = () => forbidden('This needs the permission events:read (beside dashboards:write).');
