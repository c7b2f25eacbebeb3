import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql, type SQL } from 'drizzle-orm';
import { guarded, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { bearer, jsonResponse, problems } from '../../lib/openapi';
import { ActiveUsers, ActiveUsersQuery, type ActiveUsersJson } from './schema';
import { boundedMasks, inZone, localSpans, NO_QUARTERS, today, trackedOr } from './zone';

/**
 * Daily, 7-day and 30-day active accounts for each of the last `days` days in `tz`, in one statement.
 *
 * An account is in the w-day window ending on E when its first active day `a` in the window came more than
 * `a - (E - w + 1)` days after its previous active day: each account is counted once, on that day. In UTC the
 * statement reads exactly that from the activity_daily rollup (per day, accounts by gap, capped at 31), a few
 * thousand counters whatever the number of accounts.
 *
 * A zone tracked in activity_zones (0010_activity_zones) has the same rollup of its own local days, read the same way.
 * In any other zone a calendar day is not a UTC day, so it reads the quarter-hour masks of user_activity: the
 * (account, local day) pairs of the period and the 29 days before it; then per account each active day `d` and its
 * next active day `n`, which keep the account in the w-day windows ending on `[d, least(d + w, n))`. Those intervals
 * never overlap for one account, so a running sum of +1 at their start and -1 at their end counts each account once
 * per window.
 */
export function activeUsersStatement(days: number, tz: string, gate?: (masks: SQL) => SQL) {
  const span = days + 29;
  const period = sql`select ${today(tz)} - ${days - 1}::int + i as day from generate_series(0, ${days - 1}::int) i`;
  const answer = (from: SQL) => sql`
    select json_agg(json_build_object('date', to_char(day, 'YYYY-MM-DD'), 'day', day_n, 'week', week_n, 'month', month_n) order by day) as data
    from ${from}`;
  // The rollup of the zone: activity_daily for UTC, activity_zone_daily for a tracked zone.
  const fromRollup = (daily: SQL) => sql`
      with period as materialized (${period}),
      daily as materialized (
        select day, gap, sum(users) as n from ${daily}
        and day between ${today(tz)} - ${span - 1}::int and ${today(tz)} group by 1, 2
      ), figures as (
        select p.day,
          coalesce(sum(d.n) filter (where d.day = p.day), 0) as day_n,
          coalesce(sum(d.n) filter (where d.day > p.day - 7 and (d.gap = 0 or d.gap > d.day - (p.day - 6))), 0) as week_n,
          coalesce(sum(d.n) filter (where d.gap = 0 or d.gap > d.day - (p.day - 29)), 0) as month_n
        -- An equality per (day, offset) lets the join hash instead of testing every counter against every day.
        from period p cross join generate_series(0, 29) k left join daily d on d.day = p.day - k
        group by p.day
      ) ${answer(sql`figures`)}`;
  if (tz === 'UTC') return fromRollup(sql`activity_daily where true`);
  const fromMasks = sql`
    with spans as materialized ${localSpans(sql`select ${today(tz)} - i as day from generate_series(0, ${span - 1}::int) i`, tz)},
    local as materialized (
      select distinct a.user_id, s.day
      from spans s join user_activity a on a.day = s.utc_day and a.quarters & s.mask <> ${NO_QUARTERS}
      where a.day between (select min(utc_day) from spans) and (select max(utc_day) from spans)
    ), runs as (
      select day, lead(day) over (partition by user_id order by day) as next from local
    ), edges as (
      select day, count(*) as day_n, count(*) as week_n, count(*) as month_n from runs group by day
      union all select least(day + 1, next), -count(*), 0, 0 from runs group by 1
      union all select least(day + 7, next), 0, -count(*), 0 from runs group by 1
      union all select least(day + 30, next), 0, 0, -count(*) from runs group by 1
    ), running as (
      select x.day, coalesce(sum(sum(e.day_n)) over w, 0) as day_n, coalesce(sum(sum(e.week_n)) over w, 0) as week_n,
        coalesce(sum(sum(e.month_n)) over w, 0) as month_n
      from (select distinct day from spans) x left join edges e on e.day = x.day
      group by x.day window w as (order by x.day)
    ) ${answer(sql`running where day >= ${today(tz)} - ${days - 1}::int`)}`;
  return trackedOr(tz, fromRollup(sql`activity_zone_daily where zone = ${tz}`), fromMasks, gate);
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
      '30 days ending that day. Needs `stats:read`.',
    security: bearer,
    middleware: [requirePermission('stats:read')] as const,
    request: { query: ActiveUsersQuery },
    responses: { 200: jsonResponse(ActiveUsers, 'The series'), ...problems(400, 401, 403, 422) },
  }),
  async (c) => {
    const { days, tz } = c.req.valid('query');
    const { data } = await inZone(
      guarded<{ data: ActiveUsersJson['data'] }>(c, (g) => sql`with ${g.cte} select ${g.outcome}, (${activeUsersStatement(days, tz, boundedMasks(c, g, days))}) as data`),
    );
    return c.json({ data }, 200);
  },
);
