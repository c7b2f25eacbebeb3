import { z } from '@hono/zod-openapi';
import { sql, type SQL } from 'drizzle-orm';
import type { Context } from 'hono';
import type { Guard } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { ApiError, forbidden, notFound } from '../../lib/errors';
import { Problem } from '../../lib/openapi';
import { etagOf, ifMatchVersions, visibleTo } from './schema';

export const IfMatchHeader = z.object({
  'if-match': z
    .string()
    .optional()
    .openapi({ param: { name: 'if-match', in: 'header' }, example: '"v4"', description: 'The ETag of the version this edit was made from.' }),
});

export const preconditionFailed = {
  412: {
    description: 'If-Match names a version that is no longer the current one (the ETag header gives the current one)',
    content: { 'application/problem+json': { schema: Problem } },
  },
};

/**
 * The CTEs an edit (PUT, DELETE) opens with: `cur`, the dashboard if the caller sees it, locked; `verdict`, one row
 * when it exists: `may` (the caller is `admin`, or its owner and `ownerAlso` holds), `fresh` (If-Match, when sent,
 * names its current version), and that `version`.
 */
export function editable(c: Context<AppEnv>, g: Guard, id: number, ownerAlso: SQL): SQL {
  const versions = ifMatchVersions(c.req.header('if-match'));
  const fresh = versions === null ? sql`true` : sql`cur.version = any (${sql.param(versions)}::int[])`;
  return sql`cur as (
      select d.* from dashboards d where d.id = ${id} and ${g.ok} and ${visibleTo(sql`d`, g.id, g.isAdmin)}
      for no key update of d
    ), verdict as (
      select true as found, (${g.isAdmin} or (cur.owner_id = ${g.id} and ${ownerAlso})) as may, ${fresh} as fresh, cur.version from cur
    )`;
}

export type EditAnswers = {
  found: boolean | null;
  may: boolean | null;
  fresh: boolean | null;
  version: number | null;
};

/** 404 (not seen), 403 (seen, not editable), 412 (stale If-Match), in that order. */
export function editRefusal(row: EditAnswers): void {
  if (!row.found) throw notFound('No such dashboard.');
  if (!row.may) throw forbidden('Only the dashboard’s owner (with dashboards:write and events:read) or an admin may change it.');
  if (!row.fresh) {
    throw new ApiError(412, 'precondition-failed', 'Someone else saved this dashboard since you loaded it: reload it, then make your change again.', {
      headers: { ETag: etagOf(row.version!) },
    });
  }
}
