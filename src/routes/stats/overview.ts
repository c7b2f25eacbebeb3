import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { guarded, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { bearer, jsonResponse, problems } from '../../lib/openapi';
import { Overview, OverviewQuery, type OverviewJson } from './schema';
import { dayStart, inZone, today } from './zone';

/**
 * The whole overview in one statement, answered as finished JSON.
 *
 * Days are calendar days in `tz`: day `d` is `[d 00:00, d+1 00:00)` on that zone's clocks, each bound made from a
 * date (`::timestamp at time zone tz`), never by adding intervals to a timestamptz, so a 23- or 25-hour day is exactly
 * its own length. The previous period is the `days` days before the first one, counted the same way.
 *
 * Each day's figures are counts over an index range (users_created_at_id_idx, audit_events_action_at_idx): index-only
 * scans that touch exactly the period's entries and compute nothing per row. Measured at 1M events this is 3-4x
 * faster than one scan grouping by a computed local date, whose per-row conversion dominates.
 */
export function overviewStatement(days: number, tz: string) {
  return sql`
    with period as (
      select day, ${dayStart(sql`day`, tz)} as starts, ${dayStart(sql`day + 1`, tz)} as ends
      from (select ${today(tz)} - ${days - 1}::int + i as day from generate_series(0, ${days - 1}::int) i) d
    ), series as (
      select day,
        (select count(*) from users where created_at >= starts and created_at < ends) as signups,
        (select count(*) from audit_events where action = 'auth.login' and at >= starts and at < ends) as succeeded,
        (select count(*) from audit_events where action = 'auth.login_failed' and at >= starts and at < ends) as failed
      from period
    ), previous as materialized (
      select b.starts, b.ends,
        (select count(*) from users where created_at >= b.starts and created_at < b.ends) as signups,
        (select count(*) from audit_events where action = 'auth.login' and at >= b.starts and at < b.ends) as succeeded,
        (select count(*) from audit_events where action = 'auth.login_failed' and at >= b.starts and at < b.ends) as failed
      from (select ${dayStart(sql`${today(tz)} - ${2 * days - 1}::int`, tz)} as starts,
                   ${dayStart(sql`${today(tz)} - ${days - 1}::int`, tz)} as ends) b
    ), totals as materialized (
      -- count(*) reads the smallest index of users; the disabled ones have a partial index of their own.
      select (select count(*) from users) as total, (select count(*) from users where disabled) as disabled
    ), active as materialized (
      -- Rolling windows over the latest activity of each account (sign-in, second factor, refresh), measured in whole
      -- quarter-hours like all activity: a window includes the quarter-hour it starts in. Each bound is its own
      -- sub-select (an InitPlan), computed once per statement rather than per row.
      select (select count(*) from user_last_activity where at >= (select date_bin('15 minutes', now() - interval '1 day', timestamptz '2000-01-01Z'))) as day,
             (select count(*) from user_last_activity where at >= (select date_bin('15 minutes', now() - interval '7 days', timestamptz '2000-01-01Z'))) as week,
             (select count(*) from user_last_activity where at >= (select date_bin('15 minutes', now() - interval '30 days', timestamptz '2000-01-01Z'))) as month
    )
    select json_build_object(
      'users', json_build_object(
        'total', t.total, 'enabled', t.total - t.disabled, 'disabled', t.disabled,
        'newInPeriod', (select sum(signups) from series)),
      'roles', (
        select coalesce(json_agg(json_build_object('name', r.name,
                 'users', (select coalesce(sum(n.users), 0) from role_user_counts n where n.role_id = r.id)) order by r.name), '[]'::json)
        from roles r),
      'signups', (select json_agg(json_build_object('date', to_char(day, 'YYYY-MM-DD'), 'count', signups) order by day) from series),
      'logins', (
        select json_agg(json_build_object('date', to_char(day, 'YYYY-MM-DD'), 'succeeded', succeeded, 'failed', failed) order by day)
        from series),
      'activeUsers', json_build_object('day', a.day, 'week', a.week, 'month', a.month),
      'previous', json_build_object('signups', p.signups, 'logins', json_build_object('succeeded', p.succeeded, 'failed', p.failed)),
      'sessions', json_build_object('active', (select count(*) from sessions where revoked_at is null and expires_at > now())),
      'mfa', json_build_object('enabled', (select count(*) from mfa_factors where enabled_at is not null))
    ) as overview
    from totals t, active a, previous p`;
}

export const overview = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'get',
    path: '/overview',
    tags: ['Analytics'],
    summary: 'The dashboard figures for the last `days` calendar days in `tz`',
    description:
      'Series hold one entry per calendar day of the period in `tz` (default UTC; today and the `days - 1` days ' +
      'before it), oldest first, zero-filled. `signups` counts accounts created that day that still exist ' +
      '(self-registered or created by an admin), so `users.newInPeriod` is its sum. `logins` counts `auth.login` and ' +
      '`auth.login_failed` audit events. `previous` holds the same totals for the `days` days before the period. ' +
      '`activeUsers` counts accounts active (sign-in, second factor or refresh) within the last 24 hours, 7 days and ' +
      '30 days (rolling windows, in whole quarter-hours, independent of `days` and `tz`). `sessions.active` counts live ' +
      'sessions, `mfa.enabled` accounts with a confirmed second factor. Needs `stats:read`.',
    security: bearer,
    middleware: [requirePermission('stats:read')] as const,
    request: { query: OverviewQuery },
    responses: { 200: jsonResponse(Overview, 'The figures'), ...problems(400, 401, 403, 422) },
  }),
  async (c) => {
    const { days, tz } = c.req.valid('query');
    const { overview } = await inZone(
      guarded<{ overview: OverviewJson }>(c, (g) => sql`with ${g.cte} select ${g.outcome}, (${overviewStatement(days, tz)}) as overview`),
    );
    return c.json(overview, 200);
  },
);
