import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { AppEnv } from '../../env';
import { bearer, jsonResponse, problems } from '../../lib/openapi';
import { requireRole } from '../../middleware/auth';
import { ActiveUsers, ActiveUsersQuery, type ActiveUsersJson } from './schema';
import { inZone, localSpans, NO_QUARTERS, today } from './zone';

/**
 * Daily, 7-day and 30-day active accounts for each of the last `days` days in `tz`, in one statement.
 *
 * First the (account, local day) pairs of the period and the 29 days before it, from the quarter-hour masks. Then, per
 * account, each active day `d` followed by its next active day `n`: the account counts in the w-day window ending on
 * every day of `[d, least(d + w, n))`. Those intervals never overlap for one account, so a running sum of +1 at
 * their start and -1 at their end counts each account once per window, with one sort instead of a join per day.
 */
export function activeUsersStatement(days: number, tz: string) {
  const span = days + 29;
  return sql`
    with local as materialized (
      select distinct a.user_id, s.day
      from ${localSpans(sql`select ${today(tz)} - i as day from generate_series(0, ${span - 1}::int) i`, tz)} s
      join user_activity a on a.day = s.utc_day and a.quarters & s.mask <> ${NO_QUARTERS}
    ), runs as (
      select day, lead(day) over (partition by user_id order by day) as next from local
    ), edges as (
      select day as at, 1 as day_n, 1 as week_n, 1 as month_n from runs
      union all select least(day + 1, next), -1, 0, 0 from runs
      union all select least(day + 7, next), 0, -1, 0 from runs
      union all select least(day + 30, next), 0, 0, -1 from runs
    ), running as (
      select at, sum(sum(day_n)) over w as day_n, sum(sum(week_n)) over w as week_n, sum(sum(month_n)) over w as month_n
      from edges group by at window w as (order by at)
    ), period as (
      select ${today(tz)} - ${days - 1}::int + i as day from generate_series(0, ${days - 1}::int) i
    )
    select json_agg(json_build_object('date', to_char(p.day, 'YYYY-MM-DD'),
             'day', coalesce(r.day_n, 0), 'week', coalesce(r.week_n, 0), 'month', coalesce(r.month_n, 0)) order by p.day) as data
    from period p
    left join lateral (select * from running where running.at <= p.day order by running.at desc limit 1) r on true`;
}

export const activeUsers = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'get',
    path: '/active-users',
    tags: ['Analytics'],
    summary: 'Active accounts per day, 7 days and 30 days, for the last `days` days in `tz`',
    description:
      'One entry per calendar day in `tz` (today and the `days - 1` before it), oldest first, zero-filled: the ' +
      'distinct accounts active (sign-in, second factor or refresh) that day, in the 7 days ending that day and in the ' +
      '30 days ending that day. Roles: admin or analyst.',
    security: bearer,
    middleware: [requireRole('admin', 'analyst')] as const,
    request: { query: ActiveUsersQuery },
    responses: { 200: jsonResponse(ActiveUsers, 'The series'), ...problems(400, 401, 403, 422) },
  }),
  async (c) => {
    const { days, tz } = c.req.valid('query');
    const result = await inZone(c.var.db.execute<{ data: ActiveUsersJson['data'] }>(activeUsersStatement(days, tz)));
    return c.json({ data: result.rows[0]!.data }, 200);
  },
);
