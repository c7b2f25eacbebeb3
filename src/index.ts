import { app } from './app';
import type { Bindings } from './env';
import { consumeEvents } from './events/consume';
import { runScheduled } from './jobs/scheduled';

export type { AppType } from './app';

export default {
  fetch: app.fetch,
  // Cron Triggers (wrangler.toml): retry queued email, purge expired rows.
  scheduled: (controller, env, ctx) => ctx.waitUntil(runScheduled(controller, env)),
  // Cloudflare Queues (wrangler.toml): the ingest queue and its dead-letter queue (src/events/consume.ts).
  queue: (batch, env) => consumeEvents(batch, env),
} satisfies ExportedHandler<Bindings>;
