import { app } from './app';
import type { Bindings } from './env';
import { runScheduled } from './jobs/scheduled';

export type { AppType } from './app';

export default {
  fetch: app.fetch,
  // Cron Triggers (wrangler.toml): retry queued email, purge expired rows.
  scheduled: (controller, env, ctx) => ctx.waitUntil(runScheduled(controller, env)),
} satisfies ExportedHandler<Bindings>;
