import { createMiddleware } from 'hono/factory';
import { routePath } from 'hono/route';
import type { AppEnv } from '../env';

/** One structured line per request; only the route pattern, never the raw path or query (they can carry emails). */
export const requestLog = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const started = performance.now();
    await next();
    console.log(
      JSON.stringify({
        level: 'info',
        msg: 'request',
        method: c.req.method,
        route: routePath(c, -1),
        status: c.res.status,
        ms: Math.round(performance.now() - started),
        requestId: c.get('requestId'),
        // A key's owner is known only inside its statement (src/auth/api-key-check.ts).
        userId: c.get('caller')?.apiKey ? null : (c.get('caller')?.id ?? null),
        apiKey: c.get('caller')?.apiKey ? true : undefined,
      }),
    );
  });
