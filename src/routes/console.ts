import { Hono } from 'hono';
import type { AppEnv } from '../env';
import { notFound } from '../lib/errors';

/**
 * The console's entry points that static assets cannot answer by themselves (contract §12). Files under /console/
 * are served before the Worker runs (wrangler.toml [assets]); a path there that names no file is a page of the
 * single-page console, so it gets the console's index.html. Nowhere else falls back: other paths keep the API's 404.
 */
export const consoleRoutes = new Hono<AppEnv>()
  .get('/', (c) => c.redirect('/console/', 302))
  .get('/console/*', async (c) => {
    // The asset handler adds the headers of _headers (the console's CSP among them) to this answer too.
    if (!c.env.ASSETS || c.req.path.startsWith('/console/assets/')) throw notFound(`No file at ${c.req.path}.`);
    const page = await c.env.ASSETS.fetch(new URL('/console/', c.req.url));
    return new Response(page.body, { status: page.ok ? 200 : page.status, headers: page.headers });
  });
