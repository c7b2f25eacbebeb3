import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { sql, type SQL } from 'drizzle-orm';
import { guarded, requirePermission } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { bearer, jsonResponse, problems } from '../../lib/openapi';
import { Retention, RetentionQuery, type RetentionJson } from './schema';
import { boundedMasks, dayStart, inZone, localSpans, NO_QUARTERS, today, trackedOr } from './zone';

/**
 * Weekly cohorts in one statement: the accounts created in each of the last `weeks` Monday-based weeks of `tz`, and
 * for each week since, how many of them were active in it. Sizes are range counts of users_created_at_id_idx.
 * In UTC the activity comes from the activity_weekly rollup (per sign-up week and activity week), in a tracked zone
 * from its activity_zone_weekly rollup (0010_activity_zones); in any other zone from the cohorts' own rows of
 * user_activity (user_activity_user_id_day_idx), mapped to local days by their masks.
 */
export function retentionStatement(weeks: number, tz: string, gate?: (masks: SQL) => SQL) {
  const thisWeek = sql`date_trunc('week', ${today(tz)})::date`;
  const cohorts = sql`cohorts as materialized (
      select c.cohort, (select count(*) from users u
                        where u.created_at >= ${dayStart(sql`c.cohort`, tz)} and u.created_at < ${dayStart(sql`c.cohort + 7`, tz)}) as size
      from (select ${thisWeek} - 7 * i as cohort from generate_series(0, ${weeks - 1}::int) i) c
    )`;
  // The rollup of the zone: activity_weekly for UTC, activity_zone_weekly for a tracked zone.
  const fromRollup = (weekly: SQL) => sql`active as (
      select cohort, week, sum(users) as n from ${weekly}
      and cohort >= (select min(cohort) from cohorts) group by 1, 2
    )`;
  const fromMasks = sql`members as materialized (
      select u.id, c.cohort from cohorts c
      join users u on u.created_at >= ${dayStart(sql`c.cohort`, tz)} and u.created_at < ${dayStart(sql`c.cohort + 7`, tz)}
    ), spans as materialized (
      select s.*, date_trunc('week', s.day)::date as week
      from ${localSpans(sql`select g::date as day from generate_series((select min(cohort) from cohorts), ${today(tz)}, interval '1 day') g`, tz)} s
    ), active as (
      select m.cohort, s.week, count(distinct m.id) as n
      from members m
      join user_activity a on a.user_id = m.id and a.day >= (select min(utc_day) from spans)
      join spans s on s.utc_day = a.day and s.week >= m.cohort and a.quarters & s.mask <> ${NO_QUARTERS}
      group by 1, 2
    )`;
  const answer = (active: SQL) => sql`
    with ${cohorts}, ${active}
    select json_agg(json_build_object(
             'cohort', to_char(c.cohort, 'YYYY-MM-DD'),
             'size', c.size,
             'active', (select json_agg(coalesce(a.n, 0) order by k)
                        from generate_series(0, (${thisWeek} - c.cohort) / 7) k
                        left join active a on a.cohort = c.cohort and a.week = c.cohort + 7 * k))
           order by c.cohort) as data
    from cohorts c`;
  if (tz === 'UTC') return answer(fromRollup(sql`activity_weekly where true`));
  return trackedOr(tz, answer(fromRollup(sql`activity_zone_weekly where zone = ${tz}`)), answer(fromMasks), gate);
}

export const retention = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'get',
    path: '/retention',
    tags: ['Analytics'],
    summary: 'Weekly sign-up cohorts and how many of each were active in the weeks since',
    description:
      'One cohort per Monday-based week in `tz`, oldest first, for the last `weeks` weeks including the current one. ' +
      '`size` counts the accounts created that week that still exist; `active[k]` those of them active (sign-in, ' +
      'second factor or refresh) in the k-th week after it (k = 0: the cohort week), up to the current week. ' +
      'Needs `stats:read`.',
    security: bearer,
    middleware: [requirePermission('stats:read')] as const,
    request: { query: RetentionQuery },
    responses: { 200: jsonResponse(Retention, 'The cohorts'), ...problems(400, 401, 403, 422) },
  }),
  async (c) => {
    const { weeks, tz } = c.req.valid('query');
    const { data } = await inZone(
      guarded<{ data: RetentionJson['data'] }>(c, (g) => sql`with ${g.cte} select ${g.outcome}, (${retentionStatement(weeks, tz, boundedMasks(c, g, weeks * 7))}) as data`),
    );
    return c.json({ data }, 200);
  },
);
