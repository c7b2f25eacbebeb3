/**
 * A year of activity for the demo data (contract §11): which accounts were active on which UTC day, and in which
 * quarter-hours, shaped like a real dashboard's. Generated day by day inside PostgreSQL (one INSERT … SELECT per day,
 * so progress can be shown); nothing is computed row by row in Node.
 *
 * - Each account that signs in at all has a propensity p of being active on a given day: 10% are daily users
 *   (p ≈ 0.9–1), the rest p = 0.6·u³ (many rarely, a few often). With the 10% who never sign in this makes about
 *   20% of the accounts that exist on a day active that day.
 * - Each account has a home time zone (its UTC offset) and starts its day's session around 08:00–11:00 local time,
 *   for 15 minutes to 4 hours; a session that would run past midnight UTC is cut there.
 * - Every seeded `auth.login` event also marks its quarter-hour, as the Worker's sign-in does.
 */
import type pg from 'pg';

type Query = <T extends pg.QueryResultRow = Record<string, unknown>>(text: string, params?: unknown[]) => Promise<T[]>;

/** UTC offsets of the accounts' home zones, in quarter-hours (UTC-8 … UTC+10, India's +5:30 included). */
const HOME_OFFSETS = [-32, -20, -12, 0, 4, 4, 8, 8, 12, 22, 32, 36, 40];

/**
 * Fills user_activity and user_last_activity from the staged users `du` (see seed.ts) and events `ev`.
 * Runs inside the seeding transaction, after the users are inserted.
 */
export async function seedActivity(q: Query, report: (done: number, total: number) => void): Promise<number> {
  await q(`create temp table seed_act on commit drop as
    select id, created_at,
      case when random() < 0.1 then 0.9 + random() * 0.1 else 0.6 * power(random(), 3) end as p,
      (36 - (array[${HOME_OFFSETS.join(',')}])[1 + floor(random() * ${HOME_OFFSETS.length})::int] + 96) % 96 as base_q
      , null::date as last_day
    from du where idx > 0 and not dormant order by created_at`);
  await q(`alter table seed_act add primary key (id)`);
  // The load goes in without the secondary index (rebuilt below): the primary key (day first) is appended to in order.
  await q(`drop index if exists user_activity_user_id_day_idx`);
  const days = 366;
  let rows = 0;
  for (let i = days - 1; i >= 0; i--) {
    const result = await q<{ n: string }>(
      `with d as (
         select (now() at time zone 'UTC')::date - $1::int as day
       ), b as (
         select day, day::timestamp at time zone 'UTC' as starts, (day + 1)::timestamp at time zone 'UTC' as ends,
           case when $1::int = 0
             then (extract(hour from now() at time zone 'UTC')::int * 4 + extract(minute from now() at time zone 'UTC')::int / 15)
             else 95 end as max_q
         from d
       ), act as (
         select a.id as user_id, (a.base_q + floor(random() * 12)::int) % 96 as s, 1 + floor(random() * random() * 16)::int as len
         from seed_act a, b where a.created_at < b.ends and random() < a.p
       ), ins as (
         -- prev_day is the account's last active day so far: the loop runs oldest day first.
         insert into user_activity (day, user_id, quarters, prev_day)
         select (select day from b), x.user_id, bit_or(x.q), max(sa.last_day) from (
           select user_id, (repeat('0', s) || repeat('1', l) || repeat('0', 96 - s - l))::bit(96) as q
           from (select user_id, s, least(len, 96 - s, b.max_q + 1 - s) as l from act, b) z where l > 0
           union all
           select actor_id, activity_quarter(at) from ev, b
           where action = 'auth.login' and at >= b.starts and at < b.ends and at <= now()
         ) x join seed_act sa on sa.id = x.user_id
         group by x.user_id
         order by x.user_id
         returning user_id, day
       ), moved as (
         update seed_act set last_day = ins.day from ins where seed_act.id = ins.user_id
       ) select count(*) as n from ins`,
      [i],
    );
    rows += Number(result[0]!.n);
    report(days - i, days);
  }
  await q(`create index user_activity_user_id_day_idx on user_activity (user_id, day)`);
  await q(`select rebuild_activity_rollups()`);
  await q(`insert into user_last_activity (user_id, at)
    select distinct on (user_id) user_id,
      day::timestamp at time zone 'UTC' + (96 - strpos(reverse(quarters::text), '1')) * interval '15 minutes'
    from user_activity order by user_id, day desc`);
  return rows;
}
