import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { eventQueryStatement, zoneChecked } from '../../events/query/run';
import { eventQuery } from '../../events/query/schema';
import { bearer, jsonBody, jsonResponse, problems } from '../../lib/openapi';
import { EventQueryResult } from './schema';

export const queryEvents = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'post',
    path: '/query',
    tags: ['Events'],
    summary: 'Trends, funnels and retention over the events',
    description:
      'Answers a §14 query exactly (no sampling) in one statement: `trends` (totals or distinct ids per interval, ' +
      'optionally broken down by a property), `funnel` (ids reaching each step within the window) or `retention` ' +
      '(cohorts by first start event and their returns). Needs `events:read`.',
    security: bearer,
    middleware: [requirePermission('events:read')] as const,
    request: { body: jsonBody(eventQuery) },
    responses: { 200: jsonResponse(EventQueryResult, 'The result'), ...problems(400, 401, 403, 413, 415, 422, 429) },
  }),
  async (c) => {
    const query = c.req.valid('json');
    const { statement, decode } = eventQueryStatement(query);
    const { result } = await zoneChecked(guarded<{ result: unknown }>(c, (g) => sql`with ${g.cte} select ${g.outcome}, q.result from (${statement}) q`));
    return c.json(decode(result), 200);
  },
);
