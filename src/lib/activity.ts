import { sql, type SQL } from 'drizzle-orm';

/**
 * CTEs (for the WITH list of a statement that already runs) recording that the accounts selected by `users` (SQL
 * yielding one column, `user_id`) are active now: contract §11, for sign-in, second-factor completion and refresh.
 *
 * - marks the current UTC quarter-hour in the account's row of today in user_activity (see 0006_activity), skipping
 *   the write when it is already marked, so a burst of refreshes within one quarter-hour writes once;
 * - on the account's first activity of the UTC day, counts it in the UTC rollups (activity_daily by the gap since
 *   its previous active day, activity_weekly by sign-up week when it is also its first of the week);
 * - in each tracked zone (activity_zones, 0010_activity_zones), on its first activity of a local day, moves its
 *   latest local day forward and counts it in that zone's rollups the same way;
 * - moves its latest activity (user_last_activity) forward, once per quarter-hour.
 * `name` prefixes the CTEs (`<name>`, `<name>_daily`, …, `<name>_last`) when a statement needs two.
 */
export function recordActivity(users: SQL, name = 'activity'): SQL {
  const cte = sql.raw(name);
  const today = sql`(now() at time zone 'UTC')::date`;
  return sql`${cte} as (
    insert into user_activity as a (day, user_id, quarters, prev_day)
    select ${today}, s.user_id, activity_quarter(now()),
      (select max(p.day) from user_activity p where p.user_id = s.user_id and p.day < ${today})
    from (${users}) s
    on conflict (day, user_id) do update set quarters = a.quarters | excluded.quarters
      where a.quarters | excluded.quarters <> a.quarters
    returning a.day, a.user_id, a.prev_day, (a.xmax = 0) as inserted
  ), ${sql.raw(`${name}_daily`)} as (
    insert into activity_daily as d (day, gap, shard, users)
    select day, activity_gap(day, prev_day), user_id % 16, count(*) from ${cte} where inserted group by 1, 2, 3
    on conflict (day, gap, shard) do update set users = d.users + excluded.users
  ), ${sql.raw(`${name}_weekly`)} as (
    insert into activity_weekly as w (cohort, week, shard, users)
    select activity_week((u.created_at at time zone 'UTC')::date), activity_week(x.day), x.user_id % 16, count(*)
    from ${cte} x join users u on u.id = x.user_id
    where x.inserted and activity_new_week(x.day, x.prev_day)
    group by 1, 2, 3
    on conflict (cohort, week, shard) do update set users = w.users + excluded.users
  ), ${sql.raw(`${name}_zones`)} as (
    -- Per tracked zone, on the account's first activity of a local day: the previous local day comes back from the
    -- row lock (SET reads the old row), so two concurrent sign-ins cannot both count the account.
    insert into activity_zone_last as z (zone, user_id, day, prev_day)
    select t.zone, s.user_id, (now() at time zone t.zone)::date, null
    from (${users}) s cross join activity_zones t
    on conflict (zone, user_id) do update set day = excluded.day, prev_day = z.day where z.day < excluded.day
    returning z.zone, z.user_id, z.day, z.prev_day
  ), ${sql.raw(`${name}_zone_daily`)} as (
    insert into activity_zone_daily as d (zone, day, gap, shard, users)
    select zone, day, activity_gap(day, prev_day), user_id % 16, count(*) from ${sql.raw(`${name}_zones`)} group by 1, 2, 3, 4
    on conflict (zone, day, gap, shard) do update set users = d.users + excluded.users
  ), ${sql.raw(`${name}_zone_weekly`)} as (
    insert into activity_zone_weekly as w (zone, cohort, week, shard, users)
    select x.zone, activity_week((u.created_at at time zone x.zone)::date), activity_week(x.day), x.user_id % 16, count(*)
    from ${sql.raw(`${name}_zones`)} x join users u on u.id = x.user_id
    where activity_new_week(x.day, x.prev_day)
    group by 1, 2, 3, 4
    on conflict (zone, cohort, week, shard) do update set users = w.users + excluded.users
  ), ${sql.raw(`${name}_last`)} as (
    insert into user_last_activity as l (user_id, at)
    select s.user_id, now() from (${users}) s
    on conflict (user_id) do update set at = excluded.at
      where date_bin('15 minutes', l.at, timestamptz '2000-01-01Z') < date_bin('15 minutes', excluded.at, timestamptz '2000-01-01Z')
  )`;
}
