import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { bearer, jsonResponse, problems } from '../../lib/openapi';
import { iso } from '../../lib/sql';
import { EventNames, EventNamesQuery, type EventNamesJson } from './schema';

/**
 * Every event name whose timestamp falls in the last 30 × 24 hours (up to now: events stamped in the future are not
 * "in the last" hours yet), with its count and latest timestamp there; by count descending, then name by code point.
 */
export function eventNamesStatement(source: number | undefined) {
  const bySource = source === undefined ? sql`` : sql` and e.source_id = ${source}::int`;
  return sql`(select coalesce(json_agg(json_build_object('event', n.event, 'count', n.count, 'lastSeenAt', ${iso(sql`n.last`)})
              order by n.count desc, n.event collate "C"), '[]'::json)
    from (select e.event, count(*)::int as count, max(e.timestamp) as last from events e
          where e.timestamp > now() - interval '720 hours' and e.timestamp <= now()${bySource}
            and exists (select 1 from sources s where s.id = e.source_id and s.deleted_at is null)
          group by e.event) n)`;
}

export const eventNames = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'get',
    path: '/names',
    tags: ['Events'],
    summary: 'Event names of the last 30 days, most frequent first',
    description: 'Every event name seen in the last 30 × 24 hours, with its count there and when it was last seen. Needs `events:read`.',
    security: bearer,
    middleware: [requirePermission('events:read')] as const,
    request: { query: EventNamesQuery },
    responses: { 200: jsonResponse(EventNames, 'The names'), ...problems(400, 401, 403, 422) },
  }),
  async (c) => {
    const { source } = c.req.valid('query');
    const { data } = await guarded<{ data: EventNamesJson['data'] }>(c, (g) => sql`with ${g.cte} select ${g.outcome}, ${eventNamesStatement(source)} as data`);
    return c.json({ data }, 200);
  },
);
