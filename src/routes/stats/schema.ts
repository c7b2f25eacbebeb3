import { z } from '@hono/zod-openapi';

export const OverviewQuery = z.object({
  days: z
    .string()
    .regex(/^[0-9]{1,9}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1').max(365, 'must be at most 365'))
    .optional()
    .default(30)
    .openapi({
      param: { name: 'days', in: 'query' },
      type: 'integer',
      minimum: 1,
      maximum: 365,
      default: 30,
      description: 'Length of the period in UTC days, ending today (UTC).',
    }),
});

const date = z.string().openapi({ example: '2026-01-31', description: 'A UTC day, YYYY-MM-DD' });
const count = z.number().int().nonnegative();

export const Overview = z
  .object({
    users: z.object({
      total: count.openapi({ description: 'Every account' }),
      enabled: count,
      disabled: count,
      newInPeriod: count.openapi({ description: 'Accounts created in the period: the sum of `signups`' }),
    }),
    roles: z
      .array(z.object({ name: z.string(), users: count.openapi({ description: 'Holders of the role, disabled ones included' }) }))
      .openapi({ description: 'Every role, ordered by name' }),
    signups: z
      .array(z.object({ date, count }))
      .openapi({ description: 'Accounts created per UTC day (self-registered and admin-created), oldest first, zero-filled' }),
    logins: z
      .array(z.object({ date, succeeded: count, failed: count }))
      .openapi({ description: 'Sign-in attempts per UTC day, oldest first, zero-filled' }),
    activeUsers: z
      .object({ day: count, week: count, month: count })
      .openapi({ description: 'Accounts whose latest successful sign-in is within the last 24 hours, 7 days, 30 days' }),
  })
  .openapi('StatsOverview');

export type OverviewJson = z.infer<typeof Overview>;
