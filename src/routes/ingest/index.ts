import { OpenAPIHono, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { Context } from 'hono';
import type { AppEnv } from '../../env';
import { admissionColumns, admit, type Admission } from '../../events/admit';
import { sendToQueue } from '../../events/produce';
import { eventRows, storeEvents } from '../../events/store';
import { countryOf, MAX_EVENTS, validateEvent, type Rejected, type StoredEvent } from '../../events/validate';
import { hashWriteKey, isWellFormedWriteKey, sameSecret } from '../../events/write-keys';
import { ApiError, badRequest, tooManyRequests, validationFailed } from '../../lib/errors';
import { jsonResponse, Problem } from '../../lib/openapi';

const BODY_FIELDS = new Set(['writeKey', 'events']);

const invalidKey = () => new ApiError(401, 'invalid-write-key', 'Missing, unknown or expired write key.', { headers: { 'WWW-Authenticate': 'Bearer' } });

/** The write key of the request: the header's or the body's; two different ones are refused. */
async function writeKeyOf(c: Context<AppEnv>, body: Record<string, unknown>): Promise<string> {
  const header = c.req.header('authorization');
  const fromHeader = header === undefined ? undefined : /^Bearer (\S+)$/.exec(header)?.[1] ?? '';
  const fromBody = body.writeKey;
  if (fromBody !== undefined && typeof fromBody !== 'string') throw invalidKey();
  if (fromHeader !== undefined && fromBody !== undefined && !(await sameSecret(fromHeader, fromBody))) throw invalidKey();
  const key = fromHeader ?? fromBody;
  if (!key || !isWellFormedWriteKey(key)) throw invalidKey();
  return key;
}

function parse(text: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw badRequest('The request body is not valid JSON.', 'malformed-json');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw validationFailed([{ path: 'events', message: 'the body must be a JSON object with events' }]);
  }
  return body as Record<string, unknown>;
}

/**
 * Contract §13: `POST /v1/ingest`. The write key is the credential (no user token); the body is JSON sent as
 * application/json or text/plain (navigator.sendBeacon). Each event is validated on its own (the rejected ones are
 * listed and dropped), enriched (source, receivedAt, country, an id), and then, in one statement that also checks the
 * key and counts the per-source limit, either written (the direct path, no queue bound) or, after that statement,
 * sent to Cloudflare Queues (INGEST_QUEUE bound), whose consumer writes it (src/events/consume.ts). 202 only once the
 * events are durable: committed, or accepted by Queues.
 */
export const ingestRoutes = new OpenAPIHono<AppEnv>();
ingestRoutes.post('/', async (c) => {
  // The API's own gate lets only JSON through (src/app.ts, text/plain too here); a body it could not see is judged here.
  if (!/^(application\/json|text\/plain)\s*(;.*)?$/i.test(c.req.header('content-type') ?? '')) {
    throw new ApiError(415, 'unsupported-media-type', 'The request body must be application/json or text/plain.');
  }
  const body = parse(await c.req.text());
  const key = await writeKeyOf(c, body);
  const events = body.events;
  const shape = [
    ...Object.keys(body).filter((k) => !BODY_FIELDS.has(k)).map((path) => ({ path, message: 'is not an accepted field' })),
    ...(!Array.isArray(events)
      ? [{ path: 'events', message: 'must be an array of events' }]
      : events.length < 1 || events.length > MAX_EVENTS
        ? [{ path: 'events', message: `must hold 1..${MAX_EVENTS} events` }]
        : []),
  ];
  if (shape.length > 0) throw validationFailed(shape);

  const now = Date.now();
  const country = countryOf((c.req.raw as { cf?: unknown }).cf);
  const taken: StoredEvent[] = [];
  const rejected: Rejected[] = [];
  (events as unknown[]).forEach((input, index) => {
    const result = validateEvent(input, now, country);
    if (Array.isArray(result)) rejected.push({ index, errors: result });
    else taken.push(result);
  });

  const hash = await hashWriteKey(key);
  const limit = c.var.config.INGEST_EVENTS_PER_MINUTE;
  const queue = c.env.INGEST_QUEUE;
  let admission: Admission;
  if (queue) {
    admission = (await c.var.db.execute<Admission>(sql`with ${admit(hash, taken.length, limit)} select ${admissionColumns}`)).rows[0]!;
  } else {
    // The direct path: the same admission, and the batch written by the same statement when admitted.
    const batch = sql`select (select source_id from k) as source, e.id, e.event, e."distinctId", e."timestamp", e."receivedAt",
      e.country, e.properties, e."messageId" from (${eventRows(JSON.stringify(taken))}) e where exists (select 1 from w)`;
    admission = (
      await c.var.db.execute<Admission>(sql`
        with ${admit(hash, taken.length, limit)}, ${storeEvents(batch, { keyEveryEvent: false })}
        select ${admissionColumns}, (select count(*) from stored)::int as stored`)
    ).rows[0]!;
  }
  if (admission.source === null) throw invalidKey();
  if (taken.length > 0 && !admission.admitted) {
    throw tooManyRequests(admission.retryAfter, `This source may send at most ${limit} events a minute; the batch was refused whole.`);
  }
  if (queue && taken.length > 0) await sendToQueue(queue, admission.source, taken);
  return c.json({ accepted: taken.length, rejected }, 202);
});

const EventIn = z
  .object({
    event: z.string().openapi({ example: 'report.viewed', description: '1..200 characters, no control characters.' }),
    userId: z.string().optional(),
    anonymousId: z.string().optional().openapi({ description: 'Required when userId is absent; distinctId is userId, else this.' }),
    timestamp: z.string().optional().openapi({ example: '2026-01-31T12:00:00.000Z', description: 'ISO 8601 with a zone; 1 h ahead .. 366 days back. Absent: when received.' }),
    properties: z.record(z.string(), z.unknown()).optional().openapi({ description: 'A JSON object, at most 16 KiB as compact JSON.' }),
    messageId: z.string().optional().openapi({ description: 'Events of one source with the same messageId count once.' }),
  })
  .openapi('IngestEvent');
const IngestBody = z.object({ writeKey: z.string().optional(), events: z.array(EventIn) }).openapi('IngestRequest');
const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: Problem } } });

ingestRoutes.openAPIRegistry.registerPath({
  method: 'post',
  path: '/',
  tags: ['Events'],
  summary: 'Send events with a source’s write key',
  description:
    'The write key as `Authorization: Bearer <writeKey>` or the body’s `writeKey` (sendBeacon cannot set headers). ' +
    'Body `application/json` or `text/plain`, at most 512 KiB, 1..500 events. Every answer carries ' +
    '`Access-Control-Allow-Origin: *`. 202: the valid events are durably taken, the invalid ones listed by index.',
  security: [{ writeKey: [] }],
  request: {
    body: { required: true, content: { 'application/json': { schema: IngestBody }, 'text/plain': { schema: IngestBody } } },
  },
  responses: {
    202: jsonResponse(
      z
        .object({
          accepted: z.number().int(),
          rejected: z.array(z.object({ index: z.number().int(), errors: z.array(z.object({ path: z.string(), message: z.string() })) })),
        })
        .openapi('IngestResult'),
      'Taken (each valid event), with the invalid ones listed and dropped',
    ),
    400: problem('The body is not JSON'),
    401: problem('Missing, unknown or expired write key, or two different keys'),
    413: problem('Body over 512 KiB'),
    415: problem('Body neither application/json nor text/plain'),
    422: problem('`events` missing, empty or over 500'),
    429: problem('The source’s per-minute limit; see Retry-After'),
    503: problem('Database (or queue) unreachable'),
  },
});
ingestRoutes.openAPIRegistry.registerComponent('securitySchemes', 'writeKey', { type: 'http', scheme: 'bearer', description: 'A source’s write key' });
