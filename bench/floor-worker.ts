/**
 * Bench-only Worker with the floors the API is measured against (see bench/lib/stack.ts):
 * - GET /noop     'ok' and nothing else: the cost of the runtime, wrangler dev and the HTTP round trip.
 * - GET /select1  a per-request database handle from src/db/client.ts, `select 1`, closed with waitUntil: the least
 *                 any route that touches the database can cost. `?transport=websocket` for the WebSocket Pool
 *                 (connection set-up through the proxy + one query), HTTP (one POST /sql) otherwise.
 * - GET /hash     times one hashPassword from src/auth/password.ts (?params=argon2id:m=19456,t=2,p=1 or N=16384,r=8,p=5) and returns the ms.
 */
import { sql } from 'drizzle-orm';
import { hashPassword } from '../src/auth/password';
import { createDb } from '../src/db/client';
import { loadConfig, type Bindings } from '../src/env';

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case '/noop':
        return new Response('ok');
      case '/select1': {
        const started = Date.now();
        const handle = createDb(loadConfig(env), url.searchParams.get('transport') === 'websocket' ? 'websocket' : 'http');
        try {
          await handle.db.execute(sql`select 1`);
        } finally {
          ctx.waitUntil(handle.close().catch(() => {}));
        }
        return new Response('ok', {
          headers: { 'Server-Timing': `db;dur=${Date.now() - started};desc="${handle.statements()} statements"` },
        });
      }
      case '/hash': {
        const params = url.searchParams.get('params') ?? 'argon2id:m=19456,t=2,p=1';
        const started = performance.now();
        await hashPassword('correct horse battery staple', params);
        return Response.json({ params, ms: performance.now() - started });
      }
      default:
        return new Response('not found', { status: 404 });
    }
  },
} satisfies ExportedHandler<Bindings>;
