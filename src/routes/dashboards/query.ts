import { z } from '@hono/zod-openapi';

/**
 * A widget's query: a §14 query. Until src/events/query/schema.ts lands this checks only its kind and its sources
 * (the rest is checked when the widget is computed).
 */
export const WidgetQuery = z
  .looseObject({
    kind: z.enum(['trends', 'funnel', 'retention']),
    sources: z.array(z.number().int().positive().max(2147483647)).max(100).optional(),
  })
  .openapi({ description: 'A §14 query (POST /v1/events/query), with `last` for a range that moves with time.' });
