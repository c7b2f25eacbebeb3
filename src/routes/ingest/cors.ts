import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../../env';

export const INGEST_PATH = '/v1/ingest';
export const INGEST_BODY_LIMIT = 512 * 1024;

/**
 * §13's CORS for the ingest route, in place of the API's allow-list: any origin, no credentials. A preflight gets 204
 * naming the headers a client may send; every answer, errors included (they are made below this middleware), carries
 * `Access-Control-Allow-Origin: *`, and a Cross-Origin-Resource-Policy that lets a page on any origin read it.
 */
export const ingestCors = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.method === 'OPTIONS') {
    return c.body(null, 204, {
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Methods': 'POST, OPTIONS',
      'Access-Control-Allow-Headers': 'Authorization, Content-Type, X-Request-Id',
      'Access-Control-Max-Age': '86400',
    });
  }
  await next();
  c.res.headers.set('Access-Control-Allow-Origin', '*');
  c.res.headers.set('Access-Control-Expose-Headers', 'X-Request-Id, Retry-After');
  c.res.headers.set('Cross-Origin-Resource-Policy', 'cross-origin');
});
