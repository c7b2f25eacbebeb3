import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../../env';
import { notFound } from '../../lib/errors';
import { jsonResponse, problems } from '../../lib/openapi';
import { iso } from '../../lib/sql';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

const MailboxMessage = z
  .object({
    id: z.string().openapi({ description: 'The message id (the provider idempotency key in production)' }),
    to: z.string(),
    subject: z.string(),
    text: z.string(),
    html: z.string(),
    createdAt: z.string(),
  })
  .openapi('MailboxMessage');

// Before validation, so a refused mailbox is the same 404 as a path that does not exist, whatever the query.
const devOnly = createMiddleware<AppEnv>(async (c, next) => {
  if (c.var.config.EMAIL_TRANSPORT !== 'dev' || !LOOPBACK.has(new URL(c.req.url).hostname)) {
    throw notFound(`No route for ${c.req.method} ${c.req.path}.`);
  }
  await next();
});

/** Contract §9: what the dev transport kept, for people and test suites running `npm run dev`. */
export const mailbox = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'get',
    path: '/mailbox',
    tags: ['Dev'],
    summary: 'Messages kept by the dev email transport (loopback host only)',
    description:
      'Only with EMAIL_TRANSPORT=dev and on a loopback host (127.0.0.1, localhost, [::1]); anywhere else a 404. ' +
      'Newest first, at most 100. Every message queued for the address is listed as soon as its change committed.',
    middleware: [devOnly] as const,
    request: {
      query: z.object({
        to: z
          .string()
          .max(254)
          .optional()
          .openapi({ param: { name: 'to', in: 'query' }, description: 'Recipient (case-insensitive); all messages when absent.' }),
      }),
    },
    responses: { 200: jsonResponse(z.object({ data: z.array(MailboxMessage) }), 'Messages, newest first'), ...problems(404, 422) },
  }),
  async (c) => {
    const to = c.req.valid('query').to?.trim().toLowerCase() || null;
    const rows = await c.var.db.execute<z.infer<typeof MailboxMessage>>(sql`
      select id, to_address as "to", subject, coalesce(text_body, '') as text, coalesce(html_body, '') as html,
        ${iso(sql`created_at`)} as "createdAt"
      from email_outbox where ${to}::text is null or to_address = ${to}
      order by created_at desc, id desc limit 100`);
    return c.json({ data: rows.rows }, 200);
  },
);
