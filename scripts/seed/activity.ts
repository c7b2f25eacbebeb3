/**
 * A year of activity for the demo data (contract §11): which accounts were active on which UTC day, and in which
 * quarter-hours, shaped like a real dashboard's. Generated inside PostgreSQL, set-based, a slice of accounts per
 * statement (so progress can be shown); nothing is computed row by row in Node.
 *
 * - Each account that signs in at all has a propensity p of being active on a given day: 10% are daily users
 *   (p ≈ 0.9–1), the rest p = 0.6·u³ (many rarely, a few often). With the 10% who never sign in this makes about
 *   20% of the accounts that exist on a day active that day.
 * - Each account has a home time zone (its UTC offset) and starts its day's session around 08:00–11:00 local time,
 *   for 15 minutes to 4 hours; a session that would run past midnight UTC is cut there.
 * - Every seeded `auth.login` event also marks its quarter-hour, as the Worker's sign-in does.
 *
 * Speed (1M accounts, ~70M account-days): each account's days come from a LATERAL over its own days, so prev_day is
 * a lag() within one account and nothing is sorted globally; the table is loaded without its indexes and foreign key
 * (rebuilt once at the end, in parallel where the server allows), and the rollups are rebuilt once.
 */
import type pg from 'pg';

type Query = <T extends pg.QueryResultRow = Record<string, unknown>>(text: string, params?: unknown[]) => Promise<T[]>;

/** UTC offsets of the accounts' home zones, in quarter-hours (UTC-8 … UTC+10, India's +5:30 included). */
const HOME_OFFSETS = [-32, -20, -12, 0, 4, 4, 8, 8, 12, 22, 32, 36, 40];
/** Accounts per statement: ~1.5M account-days at 1M accounts, a progress step of a few seconds. */
const SLICES = 40;
const ONES = `(~repeat('0', 96)::bit(96))`;

export type ActivityStep = 'activity' | 'indexes' | 'rollups';

/**
 * Fills user_activity and user_last_activity from the staged users `du` (see seed.ts) and events `ev`, then rebuilds
 * the rollups. Runs inside the seeding transaction, after the users are inserted and user_activity was emptied.
 */
export async function seedActivity(q: Query, report: (step: ActivityStep, done: number, total: number) => void): Promise<number> {
  await q(`create temp table seed_act on commit drop as
    select id, (greatest(created_at, now() - interval '365 days') at time zone 'UTC')::date as first_day,
      case when random() < 0.1 then 0.9 + random() * 0.1 else 0.6 * power(random(), 3) end as p,
      (36 - (array[${HOME_OFFSETS.join(',')}])[1 + floor(random() * ${HOME_OFFSETS.length})::int] + 96) % 96 as base_q
    from du where idx > 0 and not dormant`);
  await q(`alter table seed_act add primary key (id)`);
  // The quarters of each account's seeded sign-ins, per UTC day.
  await q(`create temp table seed_logins on commit drop as
    select actor_id as user_id, (at at time zone 'UTC')::date as day, bit_or(activity_quarter(at)) as quarters
    from ev where action = 'auth.login' and actor_id is not null and at <= now() group by 1, 2`);
  await q(`create index on seed_logins (user_id)`);
  await q(`analyze seed_act, seed_logins`);

  const indexes = await q<{ name: string; def: string; constraint: string | null }>(
    `select quote_ident(c.relname) as name, pg_get_indexdef(i.indexrelid) as def,
            (select quote_ident(k.conname) from pg_constraint k where k.conindid = i.indexrelid and k.contype = 'p') as constraint
     from pg_index i join pg_class c on c.oid = i.indexrelid where i.indrelid = 'user_activity'::regclass`,
  );
  const foreignKeys = await q<{ name: string; def: string }>(
    `select quote_ident(conname) as name, pg_get_constraintdef(oid) as def from pg_constraint
     where conrelid = 'user_activity'::regclass and contype = 'f'`,
  );
  for (const fk of foreignKeys) await q(`alter table user_activity drop constraint ${fk.name}`);
  for (const index of indexes) {
    await q(index.constraint ? `alter table user_activity drop constraint ${index.constraint}` : `drop index ${index.name}`);
  }

  const [{ lo, hi }] = (await q<{ lo: number | null; hi: number | null }>(`select min(id) as lo, max(id) as hi from seed_act`)) as [
    { lo: number | null; hi: number | null },
  ];
  let rows = 0;
  if (lo !== null && hi !== null) {
    const step = Math.ceil((hi - lo + 1) / SLICES);
    for (let from = lo; from <= hi; from += step) {
      report('activity', from - lo, hi - lo + 1);
      const [result] = await q<{ n: string }>(
        `with gen as materialized (
           select a.id as user_id, d.day, d.quarters, d.prev_day, d.next_day is null as last
           from seed_act a cross join lateral (
             select day, quarters, lag(day) over (order by day) as prev_day, lead(day) over (order by day) as next_day
             from (
               select day, bit_or(q) as quarters from (
                 select r.day, (${ONES} << (96 - r.l)) >> r.s as q
                 from (
                   select g.day, s, least(len, 96 - s, case when g.day = t.today then t.now_q + 1 - s else 96 end) as l
                   from (select (now() at time zone 'UTC')::date as today,
                                extract(hour from now() at time zone 'UTC')::int * 4 + extract(minute from now() at time zone 'UTC')::int / 15 as now_q) t,
                     lateral (select g::date as day, (a.base_q + floor(random() * 12)::int) % 96 as s, 1 + floor(random() * random() * 16)::int as len
                              from generate_series(a.first_day, t.today, interval '1 day') g where random() < a.p) g
                 ) r where r.l > 0
                 union all
                 select day, quarters from seed_logins sl where sl.user_id = a.id
               ) x group by day
             ) per_day
           ) d
           where a.id between $1::int and $2::int
         ), ins as (
           insert into user_activity (day, user_id, quarters, prev_day) select day, user_id, quarters, prev_day from gen
         ), latest as (
           insert into user_last_activity (user_id, at)
           select user_id, day::timestamp at time zone 'UTC' + (96 - strpos(reverse(quarters::text), '1')) * interval '15 minutes'
           from gen where last
         ) select count(*) as n from gen`,
        [from, Math.min(hi, from + step - 1)],
      );
      rows += Number(result!.n);
    }
  }
  if (lo !== null && hi !== null) report('activity', hi - lo + 1, hi - lo + 1);

  // One build per index; the server may use parallel workers (max_parallel_maintenance_workers).
  const total = indexes.length + foreignKeys.length;
  let built = 0;
  for (const index of indexes) {
    report('indexes', built++, total);
    await q(index.def);
    if (index.constraint) await q(`alter table user_activity add constraint ${index.constraint} primary key using index ${index.name}`);
  }
  for (const fk of foreignKeys) {
    report('indexes', built++, total);
    await q(`alter table user_activity add constraint ${fk.name} ${fk.def}`);
  }
  report('indexes', built, total);

  report('rollups', 0, 1);
  await q(`select rebuild_activity_rollups()`);
  report('rollups', 1, 1);
  return rows;
}
