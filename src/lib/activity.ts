import { sql, type SQL } from 'drizzle-orm';

/**
 * A CTE (for the WITH list of a statement that already runs) recording that the accounts selected by `users` (SQL
 * yielding one column, `user_id`) are active now: contract §11, for sign-in, second-factor completion and refresh.
 *
 * It marks the current UTC quarter-hour in the account's row for today (see 0006_activity) and moves its latest
 * activity forward. Both upserts skip the write when nothing would change, so a burst of refreshes within one
 * quarter-hour writes once. `name` names the CTEs (`<name>`, `<name>_last`) when a statement needs two.
 */
export function recordActivity(users: SQL, name = 'activity'): SQL {
  const cte = sql.raw(name);
  const last = sql.raw(`${name}_last`);
  return sql`${cte} as (
    insert into user_activity as a (day, user_id, quarters)
    select (now() at time zone 'UTC')::date, s.user_id, activity_quarter(now()) from (${users}) s
    on conflict (day, user_id) do update set quarters = a.quarters | excluded.quarters
      where a.quarters | excluded.quarters <> a.quarters
  ), ${last} as (
    insert into user_last_activity as l (user_id, at)
    select s.user_id, now() from (${users}) s
    on conflict (user_id) do update set at = excluded.at
      where date_bin('15 minutes', l.at, timestamptz '2000-01-01Z') < date_bin('15 minutes', excluded.at, timestamptz '2000-01-01Z')
  )`;
}
