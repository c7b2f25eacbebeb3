import { z } from '@hono/zod-openapi';
import { PageQuery, pageOf } from '../../lib/cursor';

const sourceId = z
  .string()
  .regex(/^[0-9]{1,9}$/, 'must be a source id')
  .transform(Number)
  .optional()
  .openapi({ type: 'integer', param: { name: 'source', in: 'query' }, description: 'Only events of this source' });

export const EventListQuery = PageQuery.extend({
  event: z.string().min(1).max(200).optional().openapi({ param: { name: 'event', in: 'query' }, description: 'Only events of this name' }),
  distinctId: z.string().min(1).max(200).optional().openapi({ param: { name: 'distinctId', in: 'query' }, description: 'Only events of this id' }),
  source: sourceId,
});

export const EventNamesQuery = z.object({ source: sourceId });

export const StoredEvent = z
  .object({
    id: z.number().int(),
    event: z.string(),
    distinctId: z.string(),
    timestamp: z.string(),
    receivedAt: z.string(),
    source: z.number().int(),
    country: z.string().nullable(),
    properties: z.record(z.string(), z.unknown()),
  })
  .openapi('StoredEvent');
export type StoredEventJson = z.infer<typeof StoredEvent>;

export const EventPage = pageOf(StoredEvent, 'EventPage');

export const EventNames = z
  .object({ data: z.array(z.object({ event: z.string(), count: z.number().int(), lastSeenAt: z.string() })) })
  .openapi('EventNames');
export type EventNamesJson = z.infer<typeof EventNames>;

const point = z.object({ t: z.string(), value: z.number().int() });
export const EventQueryResult = z
  .object({
    data: z.array(
      z.union([
        z.object({ series: z.number().int(), breakdown: z.unknown(), total: z.number().int(), points: z.array(point) }),
        z.object({ breakdown: z.unknown(), steps: z.array(z.object({ event: z.string(), count: z.number().int() })) }),
        z.object({ cohort: z.string(), size: z.number().int(), active: z.array(z.number().int()) }),
      ]),
    ),
  })
  .openapi('EventQueryResult');
