import { z } from '@hono/zod-openapi';
import { canonicalZone } from '../../routes/stats/zone';
import { intervalCount, lastRange, type Unit } from './zone';

/**
 * The §14 query (`POST /v1/events/query`, and every dashboard widget's `query`, §15) as one zod schema: `eventQuery`.
 * Every rule a query must meet without the database is here, so a 422 names its path (`series.0.event`,
 * `steps.1.filters.0.op`, `from`, `last.count`…); the one rule that needs the database (every id of `sources` is a live
 * source) is checked by the query's own statement (src/events/query/run.ts). Objects are strict: an unknown field is
 * a 422 at its own path, so a misspelt option is never silently ignored.
 *
 * The points rule (more than 1,000 → 422) depends on the current date for a `last` range; `eventQuery` judges it at
 * the moment of parsing.
 *
 * The runner, src/events/query/run.ts: `runEventQuery(db, query)` answers a parsed `EventQuery` with its §14 result
 * in one statement (a deleted or unknown source in `sources` → a 422 ApiError at `sources.i`). A saved widget query whose `last` range is valid today stays valid (the 366-day rule is a
 * count rule for `last`), and a `last` query's point count moves by at most one around a DST change.
 */

export const MAX_POINTS = 1000;
const MAX_RANGE_MS = 366 * 86_400_000;
/** `last.count` ceilings: each is at most 366 days whatever the date (§14). */
export const LAST_MAX: Record<Unit, number> = { hour: 8784, day: 366, week: 52, month: 12 };

const text = (max: number) => z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
const noNul = (s: string) => !s.includes('\u0000');

/** A property path: dot-separated object keys (`plan.tier`), each 1..200 characters. */
const Property = z
  .string()
  .min(1, 'must not be empty')
  .max(1000, 'must be at most 1000 characters')
  .refine(noNul, 'must not contain U+0000')
  .refine((p) => p.split('.').every((k) => k.length > 0 && k.length <= 200), 'must be dot-separated keys of 1..200 characters')
  .openapi({ example: 'plan.tier', description: 'A property, or a path of nested object keys joined with dots' });

const EventName = text(200).refine(noNul, 'must not contain U+0000').openapi({ example: 'report.viewed' });

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
const hasNul = (v: unknown): boolean =>
  typeof v === 'string' ? !noNul(v) : typeof v === 'object' && v !== null && Object.entries(v).some(([k, x]) => !noNul(k) || hasNul(x));
/** Any JSON value (the body is JSON already); strings may not hold U+0000, which PostgreSQL cannot store. */
const JsonValue = z
  .custom<Json>((v) => v !== undefined && !hasNul(v), 'must be a JSON value without U+0000')
  .openapi({ type: ['string', 'number', 'boolean', 'null', 'array', 'object'], description: 'A JSON value, compared as JSON (`"1"` is not `1`)' });

const FILTER_OPS = ['eq', 'neq', 'in', 'contains', 'gt', 'gte', 'lt', 'lte', 'is_set', 'is_not_set'] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

/**
 * One filter. `value` is checked against `op` (and reported at `value`): any JSON value for eq/neq, a non-empty array
 * for `in`, a string for `contains`, a finite number for the comparisons, nothing for is_set/is_not_set.
 */
export const Filter = z
  .strictObject({
    property: Property,
    op: z.enum(FILTER_OPS, { error: `must be one of ${FILTER_OPS.join(', ')}` }),
    value: JsonValue.optional(),
  })
  .superRefine((f, ctx) => {
    const bad = (message: string) => ctx.addIssue({ code: 'custom', path: ['value'], message });
    switch (f.op) {
      case 'eq':
      case 'neq':
        if (f.value === undefined) bad('is required for eq and neq');
        break;
      case 'in':
        if (!Array.isArray(f.value) || f.value.length === 0 || f.value.length > 100) bad('must be an array of 1..100 JSON values');
        break;
      case 'contains':
        if (typeof f.value !== 'string' || f.value.length === 0) bad('must be a non-empty string');
        break;
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
        if (typeof f.value !== 'number' || !Number.isFinite(f.value)) bad('must be a number');
        break;
      case 'is_set':
      case 'is_not_set':
        if (f.value !== undefined) bad('is not accepted with is_set and is_not_set');
        break;
    }
  })
  .openapi('EventFilter');
export type Filter = z.infer<typeof Filter>;

const Filters = z.array(Filter).max(20, 'must hold at most 20 filters');

const Breakdown = z
  .strictObject({
    property: Property,
    limit: z.number().int('must be a whole number').min(1, 'must be at least 1').max(50, 'must be at most 50').default(10),
  })
  .openapi('EventBreakdown');

const Instant = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i, 'must be an ISO 8601 instant with a zone (2026-01-31T12:00:00Z)')
  .refine((s) => !Number.isNaN(Date.parse(s)), 'is not a valid date')
  .openapi({ example: '2026-01-01T00:00:00Z' });

const Tz = z
  .string()
  .default('UTC')
  .transform((name, ctx) => {
    const zone = canonicalZone(name);
    if (zone === undefined) ctx.addIssue({ code: 'custom', message: 'must be an IANA time zone name such as Europe/Paris' });
    return zone ?? z.NEVER;
  })
  .openapi({ type: 'string', example: 'Europe/Paris', default: 'UTC' });

const Last = z.strictObject({
  count: z.number().int('must be a whole number').min(1, 'must be at least 1'),
  unit: z.enum(['hour', 'day', 'week', 'month'], { error: 'must be one of hour, day, week, month' }),
});

/** What every query kind has: the range (from/to or last), the zone, the sources, the top-level filters. */
const common = {
  from: Instant.optional(),
  to: Instant.optional(),
  last: Last.optional(),
  tz: Tz,
  sources: z.array(z.number().int('must be a whole number').min(1).max(2_147_483_647)).max(100).optional(),
  filters: Filters.optional(),
};

const Series = z.strictObject({
  event: EventName,
  math: z.enum(['total', 'uniques'], { error: 'must be total or uniques' }),
  filters: Filters.optional(),
});

const Trends = z.strictObject({
  kind: z.literal('trends'),
  series: z.array(Series).min(1, 'must hold 1..5 series').max(5, 'must hold 1..5 series'),
  interval: z.enum(['hour', 'day', 'week', 'month'], { error: 'must be one of hour, day, week, month' }),
  breakdown: Breakdown.optional(),
  ...common,
});

const Step = z.strictObject({ event: EventName, filters: Filters.optional() });

const Funnel = z.strictObject({
  kind: z.literal('funnel'),
  steps: z.array(Step).min(2, 'must hold 2..10 steps').max(10, 'must hold 2..10 steps'),
  windowSeconds: z.number().int('must be a whole number').min(1, 'must be at least 1').max(7_776_000, 'must be at most 7776000'),
  breakdown: Breakdown.optional(),
  ...common,
});

const Retention = z.strictObject({
  kind: z.literal('retention'),
  startEvent: EventName,
  returnEvent: EventName.optional(),
  interval: z.enum(['day', 'week'], { error: 'must be day or week' }),
  ...common,
});

/** A validated query, with its range resolved to instants (milliseconds since the epoch, `from` < `to`). */
export type EventQuery = (z.output<typeof Trends> | z.output<typeof Funnel> | z.output<typeof Retention>) & { range: { from: number; to: number } };
export type TrendsQuery = Extract<EventQuery, { kind: 'trends' }>;
export type FunnelQuery = Extract<EventQuery, { kind: 'funnel' }>;
export type RetentionQuery = Extract<EventQuery, { kind: 'retention' }>;

const KIND_MESSAGE = 'must be one of trends, funnel, retention';

/**
 * A §14 query. Parses to `EventQuery`: the input with defaults applied (`tz` canonical, breakdown `limit`) and
 * `range` resolved (for `last`, against the clock at parse time).
 */
export const eventQuery = z
  .discriminatedUnion('kind', [Trends, Funnel, Retention], { error: (issue) => (issue.code === 'invalid_union' ? KIND_MESSAGE : undefined) })
  .transform((q, ctx): EventQuery => {
    const fail = (path: (string | number)[], message: string) => {
      ctx.addIssue({ code: 'custom', path, message });
      return z.NEVER;
    };
    let range: { from: number; to: number };
    if (q.last) {
      if (q.from !== undefined || q.to !== undefined) return fail(['last'], 'give either from and to, or last, not both');
      const max = LAST_MAX[q.last.unit];
      if (q.last.count > max) return fail(['last', 'count'], `must be at most ${max} for ${q.last.unit}s (a range of at most 366 days)`);
      range = lastRange(q.last.count, q.last.unit, q.tz, Date.now());
    } else {
      if (q.from === undefined) return fail(['from'], 'is required (or give last)');
      if (q.to === undefined) return fail(['to'], 'is required (or give last)');
      range = { from: Date.parse(q.from), to: Date.parse(q.to) };
      if (range.to <= range.from) return fail(['to'], 'must be later than from');
      if (range.to - range.from > MAX_RANGE_MS) return fail(['to'], 'the range must be at most 366 days');
    }
    const unit = q.kind === 'funnel' ? undefined : q.interval;
    if (unit && intervalCount(range.from, range.to, unit, q.tz) > MAX_POINTS) {
      return fail(['interval'], `the range holds more than ${MAX_POINTS} intervals of this size; use a longer interval or a shorter range`);
    }
    return { ...q, range };
  })
  .openapi('EventQuery', {
    description:
      'A trends, funnel or retention query (contract §14): `kind`, a range (`from` and `to`, or `last`), `tz`, optional `sources` and `filters`.',
  });

export type EventQueryInput = z.input<typeof eventQuery>;
