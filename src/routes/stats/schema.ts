import { z } from '@hono/zod-openapi';
import { Tz } from './zone';

const days = (max: number, fallback: number, what: string) =>
  z
    .string()
    .regex(/^[0-9]{1,9}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1').max(max, `must be at most ${max}`))
    .optional()
    .default(fallback)
    .openapi({ type: 'integer', minimum: 1, maximum: max, default: fallback, description: what });

export const OverviewQuery = z.object({
  days: days(365, 30, 'Length of the period in calendar days of `tz`, ending today.').openapi({ param: { name: 'days', in: 'query' } }),
  tz: Tz,
});

export const ActiveUsersQuery = z.object({
  days: days(365, 30, 'Days in the series, ending today in `tz`.').openapi({ param: { name: 'days', in: 'query' } }),
  tz: Tz,
});

export const RetentionQuery = z.object({
  weeks: days(52, 12, 'Cohorts (Monday-based weeks in `tz`), ending with the current week.').openapi({ param: { name: 'weeks', in: 'query' } }),
  tz: Tz,
});

const date = z.string().openapi({ example: '2026-01-31', description: 'A calendar day in `tz`, YYYY-MM-DD' });
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
      .openapi({ description: 'Accounts created per day (self-registered and admin-created), oldest first, zero-filled' }),
    logins: z
      .array(z.object({ date, succeeded: count, failed: count }))
      .openapi({ description: 'Sign-in attempts per day, oldest first, zero-filled' }),
    activeUsers: z
      .object({ day: count, week: count, month: count })
      .openapi({ description: 'Accounts active (sign-in, second factor, refresh) within the last 24 hours, 7 days, 30 days' }),
    previous: z
      .object({ signups: count, logins: z.object({ succeeded: count, failed: count }) })
      .openapi({ description: 'Totals of the `days` days just before the period, for deltas' }),
    sessions: z.object({ active: count.openapi({ description: 'Live sessions now: neither revoked nor expired' }) }),
    mfa: z.object({ enabled: count.openapi({ description: 'Accounts with a confirmed second factor' }) }),
  })
  .openapi('StatsOverview');

export type OverviewJson = z.infer<typeof Overview>;

export const ActiveUsers = z
  .object({
    data: z.array(
      z.object({
        date,
        day: count.openapi({ description: 'Distinct accounts active that day' }),
        week: count.openapi({ description: 'Distinct accounts active in the 7 days ending that day' }),
        month: count.openapi({ description: 'Distinct accounts active in the 30 days ending that day' }),
      }),
    ),
  })
  .openapi('StatsActiveUsers');

export type ActiveUsersJson = z.infer<typeof ActiveUsers>;

export const Retention = z
  .object({
    data: z.array(
      z.object({
        cohort: date.openapi({ description: 'The Monday (in `tz`) the cohort week starts' }),
        size: count.openapi({ description: 'Accounts created that week (that still exist)' }),
        active: z.array(count).openapi({ description: '`active[k]`: members active in week k after the cohort week, up to the current week' }),
      }),
    ),
  })
  .openapi('StatsRetention');

export type RetentionJson = z.infer<typeof Retention>;
