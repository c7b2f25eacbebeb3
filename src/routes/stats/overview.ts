import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { bearer, jsonResponse, problems } from '../../lib/openapi';
import { Overview, OverviewQuery, type OverviewJson } from './schema';

/**
 * The whole overview in one statement, answered as finished JSON.
 *
 * Days are UTC days whatever the session's TimeZone: `now() at time zone 'UTC'` is the UTC wall clock, and day `d`
 * is `[d 00:00 UTC, d+1 00:00 UTC)`, each bound made from a date (`::timestamp at time zone 'UTC'`), never by adding
 * intervals to a timestamptz (which follows the session's daylight-saving rules).
 *
 * Each day's figures are counts over an index range (users_created_at_id_idx, audit_events_action_at_idx): index-only
 * scans that touch exactly the period's entries and compute nothing per row. Measured at 1M events this is 3-4x
 * faster than one scan grouping by `(at at time zone 'UTC')::date`, whose per-row conversion dominates.
 */
export function overviewStatement(days: number) {
  const today = sql`(now() at time zone 'UTC')::date`;
  return sql`
    with period as (
      select day, day::timestamp at time zone 'UTC' as starts, (day + 1)::timestamp at time zone 'UTC' as ends
      from (select ${today} - ${days - 1}::int + i as day from generate_series(0, ${days - 1}::int) i) d
    ), series as (
      select day,
        (select count(*) from users where created_at >= starts and created_at < ends) as signups,
        (select count(*) from audit_events where action = 'auth.login' and at >= starts and at < ends) as succeeded,
        (select count(*) from audit_events where action = 'auth.login_failed' and at >= starts and at < ends) as failed
      from period
    ), totals as materialized (
      -- count(*) reads the smallest index of users; the disabled ones have a partial index of their own.
      select (select count(*) from users) as total, (select count(*) from users where disabled) as disabled
    ), active as materialized (
      -- users.last_login_at is the latest successful sign-in. Three range counts on users_last_login_at_idx beat one
      -- scan with three filters: the bounds are computed once, not per row.
      -- Each bound is its own sub-select (an InitPlan): computed once per statement, not once per row when the
      -- planner picks a scan that filters rows (\`now() - interval\` per row was 2 of the 10 ms at 10k users).
      select (select count(*) from users where last_login_at > (select now() - interval '1 day')) as day,
             (select count(*) from users where last_login_at > (select now() - interval '7 days')) as week,
             (select count(*) from users where last_login_at > (select now() - interval '30 days')) as month
    )
    select json_build_object(
      'users', json_build_object(
        'total', t.total, 'enabled', t.total - t.disabled, 'disabled', t.disabled,
        'newInPeriod', (select sum(signups) from series)),
      'roles', (
        select coalesce(json_agg(json_build_object('name', r.name,
                 'users', (select count(*) from users_roles ur where ur.role_id = r.id)) order by r.name), '[]'::json)
        from roles r),
      'signups', (select json_agg(json_build_object('date', to_char(day, 'YYYY-MM-DD'), 'count', signups) order by day) from series),
      'logins', (
        select json_agg(json_build_object('date', to_char(day, 'YYYY-MM-DD'), 'succeeded', succeeded, 'failed', failed) order by day)
        from series),
      'activeUsers', json_build_object('day', a.day, 'week', a.week, 'month', a.month)
    ) as overview
    from totals t, active a`;
}

export const overview = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'get',
    path: '/overview',
    tags: ['Analytics'],
    summary: 'The dashboard figures for the last `days` UTC days',
    description:
      'Series hold one entry per UTC day of the period (today and the `days - 1` days before it), oldest first, ' +
      'zero-filled. `signups` counts accounts created that day that still exist (self-registered or created by an ' +
      'admin), so `users.newInPeriod` is its sum. `logins` counts `auth.login` and `auth.login_failed` audit events. ' +
      '`activeUsers` counts accounts whose latest successful sign-in is within the last 24 hours, 7 days and 30 days ' +
      '(rolling windows, independent of `days`). Needs `stats:read`.',
    security: bearer,
    middleware: [requirePermission('stats:read')] as const,
    request: { query: OverviewQuery },
    responses: { 200: jsonResponse(Overview, 'The figures'), ...problems(400, 401, 403, 422) },
  }),
  async (c) => {
    const { days } = c.req.valid('query');
    const { overview } = await guarded<{ overview: OverviewJson }>(c, (g) => sql`
      with ${g.cte} select ${g.outcome}, (${overviewStatement(days)}) as overview`);
    return c.json(overview, 200);
  },
);
