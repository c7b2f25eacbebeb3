import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { AppEnv } from '../env';
import { describeError } from '../lib/db-errors';
import { jsonResponse } from '../lib/openapi';

const Health = z.object({ status: z.enum(['ok', 'degraded']), db: z.enum(['ok', 'unreachable']) }).openapi('Health');

export const health = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'get',
    path: '/health',
    tags: ['Health'],
    summary: 'Liveness and database reachability',
    responses: {
      200: jsonResponse(Health, 'The API and its database answer'),
      503: jsonResponse(Health, 'The database cannot be reached'),
    },
  }),
  async (c) => {
    c.header('Cache-Control', 'no-store');
    try {
      await c.var.db.execute(sql`select 1`);
      return c.json({ status: 'ok', db: 'ok' } as const, 200);
    } catch (error) {
      console.error(JSON.stringify({ level: 'warn', msg: 'health check: database unreachable', requestId: c.var.requestId, error: describeError(error) }));
      return c.json({ status: 'degraded', db: 'unreachable' } as const, 503);
    }
  },
);
