import { sql, type SQL } from 'drizzle-orm';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../env';
import { deliver } from './deliver';
import type { Message } from './messages/layout';

// Ids queued by the request, so delivery after the response sends exactly what this request's statement wrote.
const queued = new WeakMap<Context, string[]>();

/**
 * The body of a CTE (`mail as (${enqueueEmail(...)})`) that queues one message in the statement that causes it:
 * the row commits with the change or not at all, so a refused change sends nothing. `to` is SQL (e.g. a column of
 * `from`, the CTE or table the row is selected from; without `from` the row is always written). At most one row is
 * written. The message id, made here, is the provider's idempotency key.
 */
export function enqueueEmail(c: Context<AppEnv>, mail: { to: SQL; message: Message; from?: SQL }): SQL {
  const id = crypto.randomUUID();
  const ids = queued.get(c) ?? [];
  ids.push(id);
  queued.set(c, ids);
  const { kind, subject, text, html } = mail.message;
  return sql`insert into email_outbox (id, kind, to_address, subject, text_body, html_body)
    select ${id}::uuid, ${kind}, lower(${mail.to}), ${subject}, ${text}, ${html}
    ${mail.from ? sql`from ${mail.from}` : sql``} limit 1`;
}

/**
 * Delivers what the request queued once the response is on its way (`waitUntil`), on a database connection of its
 * own (the request's is closed by then). Failures stay queued for the scheduled handler; nothing here can fail the
 * request. A refused request (4xx/5xx) wrote no rows, so it schedules nothing.
 */
export const deliverAfterResponse = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    await next();
    const ids = queued.get(c);
    if (!ids || c.res.status >= 400) return;
    c.executionCtx.waitUntil(
      deliver(c.var.config, ids).catch((error) =>
        console.error(JSON.stringify({ level: 'error', msg: 'email delivery failed', requestId: c.get('requestId'), error: String(error) })),
      ),
    );
  });
