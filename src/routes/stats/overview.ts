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
 * Every figure reads trigger-kept counters (drizzle/0011_stats_counters.sql), never the rows they count: at 1M users
 * and 10M events counting index ranges took 0.45 s for 30 days and 1.1 s for 365. A span's sign-ups and sign-ins are
 * its whole hours from stats_hourly plus the quarter-hours at its edges from stats_quarterly (zones are offset from
 * UTC by whole quarter-hours), so each day costs a few dozen counter rows in every zone.
 */
export function overviewStatement(days: number, tz: string) {
  return sql`
    with period as (
      select day, ${span} from (select day, ${dayStart(sql`day`, tz)} as starts, ${dayStart(sql`day + 1`, tz)} as ends
            from (select ${today(tz)} - ${days - 1}::int + i as day from generate_series(0, ${days - 1}::int) i) d) b
    ), series as (
      select day, c.* from period p cross join lateral ${counted('p')} c
    ), previous as materialized (
      select c.* from (select ${span} from (select ${dayStart(sql`${today(tz)} - ${2 * days - 1}::int`, tz)} as starts,
                         ${dayStart(sql`${today(tz)} - ${days - 1}::int`, tz)} as ends) x) b
      cross join lateral ${counted('b')} c
    ), totals as materialized (
      select coalesce(sum(users), 0) as total, coalesce(sum(disabled), 0) as disabled from user_totals
    ), active as materialized (
      -- Rolling windows over the latest activity of each account (sign-in, second factor, refresh), measured in whole
      -- quarter-hours like all activity: a window includes the quarter-hour it starts in, so it is a sum of buckets.
      select coalesce(sum(n) filter (where at >= w.day), 0) as day, coalesce(sum(n) filter (where at >= w.week), 0) as week,
             coalesce(sum(n), 0) as month
      from (select date_bin('15 minutes', now() - interval '1 day', timestamptz '2000-01-01Z') as day,
                   date_bin('15 minutes', now() - interval '7 days', timestamptz '2000-01-01Z') as week,
                   date_bin('15 minutes', now() - interval '30 days', timestamptz '2000-01-01Z') as month) w
      join quarter_histograms q on q.kind = 0 and q.at >= w.month
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
      'sessions', json_build_object('active', (${liveSessions})),
      'mfa', json_build_object('enabled', (select count(*) from mfa_factors where enabled_at is not null))
    ) as overview
    from totals t, active a, previous p`;
}

/**
 * Sessions not revoked and not expired: those expiring after the current quarter-hour from the histogram, those
 * expiring within it counted exactly (a short range of sessions_live_expires_at_idx).
 */
const liveSessions = sql`select
  (select coalesce(sum(n), 0) from quarter_histograms
   where kind = 1 and at >= date_bin('15 minutes', now(), timestamptz '2000-01-01Z') + interval '15 minutes')
  + (select count(*) from sessions where revoked_at is null and expires_at > now()
     and expires_at < date_bin('15 minutes', now(), timestamptz '2000-01-01Z') + interval '15 minutes')`;

/** A span's bounds and, as counted() reads them, its first and last whole hour (the bounds are quarter-hours). */
const span = sql`starts, ends, date_bin('1 hour', starts + interval '45 minutes', timestamptz '2000-01-01Z') as hs,
  date_bin('1 hour', ends, timestamptz '2000-01-01Z') as he`;

/**
 * Sign-ups (kind 0), sign-ins (1) and failed sign-ins (2) over the span of row `r` (columns starts, ends and hs/he:
 * its first and last whole hour): the hours in between, and the quarter-hours before hs and from he on. A span
 * within one hour has hs > he: then the hours are none and the two quarter-hour ranges are the span and nothing.
 */
const counted = (r: string) =>
  sql.raw(`(select coalesce(sum(n) filter (where kind = 0), 0) as signups, coalesce(sum(n) filter (where kind = 1), 0) as succeeded,
      coalesce(sum(n) filter (where kind = 2), 0) as failed
    from (select kind, n from stats_hourly where kind in (0, 1, 2) and at >= ${r}.hs and at < ${r}.he
      union all select kind, n from stats_quarterly where kind in (0, 1, 2) and at >= ${r}.starts and at < least(${r}.hs, ${r}.ends)
      union all select kind, n from stats_quarterly where kind in (0, 1, 2) and at >= greatest(${r}.he, ${r}.hs) and at < ${r}.ends) c)`);

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
