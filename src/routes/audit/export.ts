import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { sql, type SQL } from 'drizzle-orm';
import { requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { validationFailed } from '../../lib/errors';
import { EXPORT_PAGE, streamCsv } from '../../lib/export';
import { bearer, problems } from '../../lib/openapi';
import { iso } from '../../lib/sql';
import { AUDIT_ACTIONS } from './schema';

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

/** An ISO 8601 instant with its zone, on a day that exists (Date.parse would roll 2026-02-30 over to March). */
function isInstant(text: string): boolean {
  const m = INSTANT.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const day = new Date(Date.UTC(y, mo - 1, d));
  return mo >= 1 && mo <= 12 && day.getUTCDate() === d && day.getUTCMonth() === mo - 1;
}

const instant = (name: string, what: string) =>
  z
    .string()
    .refine(isInstant, 'must be an ISO 8601 timestamp with a zone, e.g. 2026-01-31T00:00:00Z')
    .optional()
    .openapi({ param: { name, in: 'query' }, example: '2026-01-01T00:00:00Z', description: what });

const ExportAuditQuery = z.object({
  from: instant('from', 'Only events at or after this instant (inclusive).'),
  to: instant('to', 'Only events before this instant (exclusive).'),
  action: z.enum(AUDIT_ACTIONS).optional().openapi({ param: { name: 'action', in: 'query' }, description: 'Only events of this action' }),
});
type Filter = z.infer<typeof ExportAuditQuery>;

type Row = { id: string; at: string; at_key: string; actor_id: number | null; action: string; target_type: string; target_id: string | null; ip: string | null; details: string };

/**
 * One page of the export in time order, keyed by (at, id): audit_events_at_id_idx, or (action, at) with an action,
 * so a page starts where the last one ended without reading what came before.
 */
export function exportAuditPage({ from, to, action }: Filter, after?: { at: string; id: string }): SQL {
  const where: SQL[] = [];
  if (from) where.push(sql`at >= ${from}::timestamptz`);
  if (to) where.push(sql`at < ${to}::timestamptz`);
  if (action) where.push(sql`action = ${action}`);
  if (after) where.push(sql`(at, id) > (${after.at}::timestamptz, ${after.id}::bigint)`);
  return sql`
    select id::text, ${iso(sql`at`)} as at, to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at_key,
      actor_id, action, target_type, target_id, ip, details::text
    from audit_events
    ${where.length ? sql`where ${sql.join(where, sql` and `)}` : sql``}
    order by at, id
    limit ${EXPORT_PAGE}`;
}

export const exportAudit = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'get',
    path: '/export',
    tags: ['Analytics'],
    summary: 'The audit trail between two instants, as CSV',
    description:
      'Streams `text/csv` (RFC 4180, CRLF) with the header `id,at,actorId,action,targetType,targetId,ip,details`, ' +
      'oldest first; `details` is JSON. `from` is inclusive, `to` exclusive (ISO 8601 with a zone); either may be ' +
      'left out. A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with `\'`. Read page ' +
      'by page, so memory stays flat whatever the row count. Needs `audit:read`.',
    security: bearer,
    middleware: [requirePermission('audit:read')] as const,
    request: { query: ExportAuditQuery },
    responses: {
      200: { description: 'The CSV', content: { 'text/csv': { schema: z.string() } } },
      ...problems(400, 401, 403, 422),
    },
  }),
  async (c) => {
    const filter = c.req.valid('query');
    if (filter.from && filter.to && Date.parse(filter.from) > Date.parse(filter.to)) {
      throw validationFailed([{ path: 'to', message: 'must not be before from' }]);
    }
    return streamCsv<Row>(c, {
      filename: 'audit.csv',
      header: ['id', 'at', 'actorId', 'action', 'targetType', 'targetId', 'ip', 'details'],
      page: (last) => exportAuditPage(filter, last && { at: last.at_key, id: last.id }),
      cells: (r) => [r.id, r.at, r.actor_id, r.action, r.target_type, r.target_id, r.ip, r.details],
    });
  },
);
