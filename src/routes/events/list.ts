import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guardedRows, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { decodeCursor, invalidCursor, pageFrom } from '../../lib/cursor';
import { bearer, jsonResponse, problems } from '../../lib/openapi';
import { iso } from '../../lib/sql';
import { EventListQuery, EventPage, type StoredEventJson } from './schema';

const KIND = 'events';
const SORT = '-timestamp,-id';
// The cursor keeps the timestamp to the microsecond, so a page boundary never skips an event.
const exact = (column: ReturnType<typeof sql>) => sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * A page of events, newest timestamp first, then highest id: (timestamp, id) descending, read backwards from
 * events_timestamp_id_idx (or the event's / id's own index when filtered), only events of live sources.
 */
export function eventPageStatement(q: { after?: { ts: string; id: number }; event?: string; distinctId?: string; source?: number; limit: number }) {
  const where = [
    sql`exists (select 1 from sources s where s.id = e.source_id and s.deleted_at is null)`,
    q.after ? sql`(e.timestamp, e.id) < (${q.after.ts}::timestamptz, ${q.after.id}::bigint)` : undefined,
    q.event !== undefined ? sql`e.event = ${q.event}` : undefined,
    q.distinctId !== undefined ? sql`e.distinct_id = ${q.distinctId}` : undefined,
    q.source !== undefined ? sql`e.source_id = ${q.source}::int` : undefined,
  ].filter((w) => w !== undefined);
  return sql`
    select json_build_object('id', e.id, 'event', e.event, 'distinctId', e.distinct_id, 'timestamp', ${iso(sql`e.timestamp`)},
             'receivedAt', ${iso(sql`e.received_at`)}, 'source', e.source_id, 'country', e.country, 'properties', e.properties) as event,
           ${exact(sql`e.timestamp`)} as position
    from events e
    where ${sql.join(where, sql` and `)}
    order by e.timestamp desc, e.id desc
    limit ${q.limit + 1}`;
}

export const listEvents = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'get',
    path: '/',
    tags: ['Events'],
    summary: 'Stored events, newest first',
    description:
      'Keyset-paginated, newest `timestamp` first (then highest id); `event`, `distinctId` and `source` filter. ' +
      'Only events of live sources. Needs `events:read`.',
    security: bearer,
    middleware: [requirePermission('events:read')] as const,
    request: { query: EventListQuery },
    responses: { 200: jsonResponse(EventPage, 'A page of events'), ...problems(400, 401, 403, 422) },
  }),
  async (c) => {
    const { limit, cursor, event, distinctId, source } = c.req.valid('query');
    const config = c.var.config;
    let after: { ts: string; id: number } | undefined;
    if (cursor !== undefined) {
      const decoded = await decodeCursor(config, KIND, SORT, cursor);
      const ts = decoded.values[0];
      if (typeof ts !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(ts)) throw invalidCursor();
      after = { ts, id: decoded.id };
    }
    const rows = await guardedRows<{ event: StoredEventJson; position: string }>(c, () =>
      eventPageStatement({ after, event, distinctId, source, limit }),
    );
    const page = await pageFrom(config, KIND, SORT, rows, limit, (r) => r.event, (r) => ({ values: [r.position], id: r.event.id }));
    return c.json(page, 200);
  },
);
