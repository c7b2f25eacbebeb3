import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectInvalid, expectProblem } from './expect';
import { createHarness, createUser, userWithToken, type Harness } from './harness';

/**
 * Contract §11 against hand-computed figures. Every scenario gets its own database and starts with no activity
 * (the analyst's own sign-in is wiped), so each expected number below is counted by hand from the instants listed.
 */

const DAY = 86_400_000;
const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const midnight = (ms: number) => Math.floor(ms / DAY) * DAY;
const todayUtc = () => midnight(Date.now());
const at = (date: string, time: string) => `${date}T${time}Z`;
const plus = (date: string, days: number) => ymd(Date.parse(`${date}T00:00:00Z`) + days * DAY);

/** The last (n = -1) or first (n = 1) Sunday of a month, as YYYY-MM-DD. */
function sunday(year: number, month0: number, which: 'first' | 'last'): string {
  if (which === 'first') {
    const first = Date.UTC(year, month0, 1);
    return ymd(first + ((7 - new Date(first).getUTCDay()) % 7) * DAY);
  }
  const last = Date.UTC(year, month0 + 1, 0);
  return ymd(last - new Date(last).getUTCDay() * DAY);
}

/** The most recent such Sunday at least 3 days ago, so the day after it is also in the past. */
function recent(month0: number, which: 'first' | 'last'): string {
  const year = new Date().getUTCFullYear();
  for (const y of [year, year - 1]) {
    const d = sunday(y, month0, which);
    if (Date.parse(`${d}T00:00:00Z`) <= todayUtc() - 3 * DAY) return d;
  }
  throw new Error('unreachable');
}

interface Scenario {
  h: Harness;
  token: string;
  /** Marks the user active at each instant (what recordActivity writes, at a chosen time). */
  active(userId: number, ...instants: string[]): Promise<void>;
  get(path: string): Promise<any>;
}

async function scenario(): Promise<Scenario> {
  // These tests compare the masks with the rollups over a year: above the default bound on untracked spans.
  const h = await createHarness({ STATS_UNTRACKED_MAX_DAYS: '400' });
  const analyst = await userWithToken(h, ['analyst']);
  await h.query(`delete from user_activity; delete from user_last_activity; delete from activity_daily; delete from activity_weekly`);
  return {
    h,
    token: analyst.token,
    async active(userId, ...instants) {
      await h.query(
        `insert into user_activity as a (day, user_id, quarters)
         select (t at time zone 'UTC')::date, $1, bit_or(activity_quarter(t)) from unnest($2::timestamptz[]) t group by 1
         on conflict (day, user_id) do update set quarters = a.quarters | excluded.quarters`,
        [userId, instants],
      );
      // Rows written out of time order: recompute what the Worker keeps incrementally (tested below).
      await h.query(`select rebuild_activity_prev_days(), rebuild_activity_rollups()`);
      await h.query(
        `insert into user_last_activity as l (user_id, at) select $1, max(t) from unnest($2::timestamptz[]) t
         on conflict (user_id) do update set at = greatest(l.at, excluded.at)`,
        [userId, instants],
      );
    },
    async get(path) {
      const res = await h.call('GET', path, { token: analyst.token });
      expect(res.status, res.text).toBe(200);
      expect(res.statements).toBe(1);
      return res.body;
    },
  };
}

type ActiveDay = { date: string; day: number; week: number; month: number };
const byDate = (data: ActiveDay[]) => Object.fromEntries(data.map((e) => [e.date, e]));

describe('tz', () => {
  let s: Scenario;
  beforeAll(async () => void (s = await scenario()));
  afterAll(() => s.h.drop());

  const routes = ['/v1/stats/overview', '/v1/stats/active-users', '/v1/stats/retention'];

  it.each(['UTC+5', 'GMT-3', '+05:00', '-0300', 'Mars/Olympus_Mons', 'Europe/', '', 'Europe/Paris ', '../etc/passwd', 'x'.repeat(80)])(
    'tz=%j is a 422 naming tz on every stats route, after only the caller check',
    async (tz) => {
      for (const route of routes) {
        const res = await s.h.call('GET', `${route}?tz=${encodeURIComponent(tz)}`, { token: s.token });
        expectInvalid(res, 'tz');
        expect(res.statements).toBeLessThanOrEqual(1);
      }
    },
  );

  it('accepts IANA names in any case, and links such as Asia/Calcutta or Etc/GMT+5', async () => {
    for (const tz of ['europe/paris', 'Asia/Calcutta', 'Etc/GMT+5', 'Pacific/Chatham', 'America/St_Johns', 'UTC']) {
      for (const route of routes) await s.get(`${route}?tz=${encodeURIComponent(tz)}`);
    }
  });

  it('every series ends on today in the zone, even where that is already tomorrow or still yesterday', async () => {
    for (const tz of ['Pacific/Kiritimati', 'Pacific/Pago_Pago', 'UTC']) {
      const local = new Intl.DateTimeFormat('en-CA', { timeZone: tz }).format(new Date());
      const o = await s.get(`/v1/stats/overview?days=3&tz=${tz}`);
      const a = await s.get(`/v1/stats/active-users?days=3&tz=${tz}`);
      const r = await s.get(`/v1/stats/retention?weeks=1&tz=${tz}`);
      const after = new Intl.DateTimeFormat('en-CA', { timeZone: tz }).format(new Date());
      expect([local, after]).toContain(o.signups.at(-1).date);
      expect([local, after]).toContain(a.data.at(-1).date);
      expect(o.signups.map((e: { date: string }) => e.date)).toEqual(a.data.map((e: ActiveDay) => e.date));
      const monday = (d: string) => plus(d, -((new Date(`${d}T00:00:00Z`).getUTCDay() + 6) % 7));
      expect([monday(local), monday(after)]).toContain(r.data[0].cohort);
    }
  });
});

describe('active users on the edges of days in several zones', () => {
  let s: Scenario;
  const users: Record<string, number> = {};
  // Paris: the last Sunday of March lasts 23 hours ([Sat 23:00Z, Sun 22:00Z)), of October 25 ([Sat 22:00Z, Sun 23:00Z)).
  const spring = recent(2, 'last');
  const autumn = recent(9, 'last');
  // Auckland: the first Sunday of April lasts 25 hours ([Sat 11:00Z, Sun 12:00Z)), the last of September 23
  // ([Sat 12:00Z, Sun 11:00Z)).
  const nzLong = recent(3, 'first');
  const nzShort = recent(8, 'last');

  beforeAll(async () => {
    s = await scenario();
    for (const name of ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6']) users[name] = (await createUser(s.h)).id;
    const sat = (d: string) => plus(d, -1);
    await s.active(users.p1!, at(sat(spring), '22:59:00')); // Paris: Saturday 23:59 (+01)
    await s.active(users.p2!, at(sat(spring), '23:00:00')); // Paris: Sunday 00:00 (+01)
    await s.active(users.p3!, at(spring, '21:59:59')); // Paris: Sunday 23:59 (+02)
    await s.active(users.p4!, at(spring, '22:00:00')); // Paris: Monday 00:00 (+02)
    await s.active(users.p5!, at(sat(autumn), '21:59:00')); // Paris: Saturday 23:59 (+02)
    await s.active(users.p6!, at(sat(autumn), '22:00:00')); // Paris: Sunday 00:00 (+02)
    await s.active(users.p7!, at(autumn, '22:59:59')); // Paris: Sunday 23:59 (+01)
    await s.active(users.p8!, at(autumn, '23:00:00')); // Paris: Monday 00:00 (+01)
    await s.active(users.n1!, at(sat(nzLong), '10:59:00')); // Auckland: Saturday 23:59 (+13)
    await s.active(users.n2!, at(sat(nzLong), '11:00:00'), at(nzLong, '11:59:00')); // Sunday 00:00 (+13) and 23:59 (+12)
    await s.active(users.n3!, at(nzLong, '12:00:00')); // Auckland: Monday 00:00 (+12)
    await s.active(users.n4!, at(sat(nzShort), '11:59:00')); // Auckland: Saturday 23:59 (+12)
    await s.active(users.n5!, at(sat(nzShort), '12:00:00'), at(nzShort, '10:59:00')); // Sunday 00:00 (+12) and 23:59 (+13)
    await s.active(users.n6!, at(nzShort, '11:00:00')); // Auckland: Monday 00:00 (+13)
  });
  afterAll(() => s.h.drop());

  const series = async (tz: string) => byDate((await s.get(`/v1/stats/active-users?days=365&tz=${tz}`)).data);
  const days = (data: Record<string, ActiveDay>, dates: string[]) => dates.map((d) => data[d]?.day);

  const track = (zone: string) => s.h.query(`select activity_track_zone($1)`, [zone]);
  const untrack = (zone: string) => s.h.query(`select activity_untrack_zone($1)`, [zone]);

  it('Europe/Paris over the last Sundays of March and October', async () => {
    await untrack('Europe/Paris');
    const paris = await series('Europe/Paris');
    expect(days(paris, [plus(spring, -1), spring, plus(spring, 1)])).toEqual([1, 2, 1]);
    expect(days(paris, [plus(autumn, -1), autumn, plus(autumn, 1)])).toEqual([1, 2, 1]);
    // The 7-day window ending on the Monday holds the three accounts of Saturday to Monday, and only them.
    expect(paris[plus(spring, 1)]!.week).toBe(4);
    expect(paris[plus(autumn, 1)]!.week).toBe(4);
  });

  it('Pacific/Auckland over its 25-hour and 23-hour days', async () => {
    await untrack('Pacific/Auckland');
    const nz = await series('Pacific/Auckland');
    expect(days(nz, [plus(nzLong, -1), nzLong, plus(nzLong, 1)])).toEqual([1, 1, 1]);
    expect(days(nz, [plus(nzShort, -1), nzShort, plus(nzShort, 1)])).toEqual([1, 1, 1]);
    expect(nz[plus(nzLong, 1)]!.week).toBe(3);
  });

  it('tracked zones (rollups of their own local days) give the same figures over the same DST days', async () => {
    for (const zone of ['Europe/Paris', 'Pacific/Auckland']) {
      await untrack(zone);
      const masks = await series(zone);
      await track(zone);
      expect(await series(zone)).toEqual(masks);
    }
    const paris = await series('Europe/Paris');
    expect(days(paris, [plus(spring, -1), spring, plus(spring, 1)])).toEqual([1, 2, 1]);
    expect(days(paris, [plus(autumn, -1), autumn, plus(autumn, 1)])).toEqual([1, 2, 1]);
    expect(paris[plus(spring, 1)]!.week).toBe(4);
    const nz = await series('Pacific/Auckland');
    expect(days(nz, [plus(nzLong, -1), nzLong, plus(nzLong, 1)])).toEqual([1, 1, 1]);
    expect(days(nz, [plus(nzShort, -1), nzShort, plus(nzShort, 1)])).toEqual([1, 1, 1]);
    expect(nz[plus(nzLong, 1)]!.week).toBe(3);
    // The answer comes from the zone's counters: change one and the figure follows (a rebuild puts it back).
    await s.h.query(`update activity_zone_daily set users = users + 1000 where zone = 'Europe/Paris' and day = $1`, [spring]);
    expect((await series('Europe/Paris'))[spring]!.day).toBeGreaterThanOrEqual(1002);
    await s.h.query(`select rebuild_activity_rollups()`);
    expect(await series('Europe/Paris')).toEqual(paris);
    // Other zones still read the masks: Berlin has Paris's clocks.
    expect(await series('Europe/Berlin')).toEqual(paris);
  });

  it('the same instants on UTC days', async () => {
    const utc = await series('UTC');
    expect(days(utc, [plus(spring, -1), spring])).toEqual([2, 2]);
    expect(days(utc, [plus(autumn, -1), autumn])).toEqual([2, 2]);
    // n1 and n2 on Saturday; n2 and n3 on Sunday: distinct accounts per day, not activity slots.
    expect(days(utc, [plus(nzLong, -1), nzLong])).toEqual([2, 2]);
    expect(utc[plus(nzLong, 1)]!.week).toBe(3);
  });

  it('half- and quarter-hour zones: Asia/Kolkata (+05:30) and Asia/Kathmandu (+05:45)', async () => {
    const d = ymd(todayUtc() - 150 * DAY);
    const [k1, k2, k3] = [(await createUser(s.h)).id, (await createUser(s.h)).id, (await createUser(s.h)).id];
    await s.active(k1, at(d, '18:29:59')); // Kolkata 23:59:59, Kathmandu next day 00:14:59
    await s.active(k2, at(d, '18:30:00')); // Kolkata next day 00:00, Kathmandu 00:15
    await s.active(k3, at(d, '18:14:00')); // Kolkata 23:44, Kathmandu 23:59
    const kolkata = await series('Asia/Kolkata');
    expect(days(kolkata, [d, plus(d, 1)])).toEqual([2, 1]);
    const kathmandu = await series('Asia/Kathmandu');
    expect(days(kathmandu, [d, plus(d, 1)])).toEqual([1, 2]);
  });
});

describe('GET /v1/stats/active-users: rolling windows', () => {
  let s: Scenario;
  const t = todayUtc();
  const noon = (daysAgo: number) => new Date(t - daysAgo * DAY + 12 * 3_600_000).toISOString();

  beforeAll(async () => {
    s = await scenario();
    const x = (await createUser(s.h)).id;
    const y = (await createUser(s.h)).id;
    const z = (await createUser(s.h)).id;
    await s.active(x, noon(40), noon(10), noon(3), noon(3)); // twice the same day: still one account that day
    await s.active(y, noon(35));
    await s.active(z, noon(0), noon(1), noon(2));
  });
  afterAll(() => s.h.drop());

  it('day, week and month per day of the period, oldest first, zero-filled', async () => {
    const { data } = await s.get('/v1/stats/active-users?days=30');
    expect(data).toHaveLength(30);
    expect(data.map((e: ActiveDay) => e.date)).toEqual(Array.from({ length: 30 }, (_, i) => ymd(t - (29 - i) * DAY)));
    const expected = (ago: number) => {
      const x = [40, 10, 3];
      const y = [35];
      const z = [0, 1, 2];
      const within = (days: number[], w: number) => days.some((d) => d >= ago && d < ago + w);
      const n = (w: number) => [x, y, z].filter((days) => within(days, w)).length;
      return { date: ymd(t - ago * DAY), day: n(1), week: n(7), month: n(30) };
    };
    expect(data).toEqual(Array.from({ length: 30 }, (_, i) => expected(29 - i)));
    // Spot checks of the rule itself, computed by hand: 6 days ago only y's window (35 days ago) is still open.
    expect(data.at(-1)).toEqual({ date: ymd(t), day: 1, week: 2, month: 2 });
    expect(data.at(-7)).toEqual({ date: ymd(t - 6 * DAY), day: 0, week: 1, month: 2 });
    expect(data.at(-11)).toEqual({ date: ymd(t - 10 * DAY), day: 1, week: 1, month: 2 });
  });

  it('the UTC rollups and the quarter-hour masks agree (Africa/Abidjan is UTC all year, read from the masks)', async () => {
    for (const days of [1, 30, 120]) {
      const utc = await s.get(`/v1/stats/active-users?days=${days}`);
      expect(await s.get(`/v1/stats/active-users?days=${days}&tz=Africa/Abidjan`)).toEqual(utc);
    }
  });

  it('days is 1..365, default 30', async () => {
    expect((await s.get('/v1/stats/active-users')).data).toHaveLength(30);
    expect((await s.get('/v1/stats/active-users?days=1')).data).toHaveLength(1);
    for (const days of ['0', '366', '1.5', 'x']) expectInvalid(await s.h.call('GET', `/v1/stats/active-users?days=${days}`, { token: s.token }), 'days');
  });

  it('the overview counts the same accounts in rolling 24 hours, 7 and 30 days', async () => {
    const o = await s.get('/v1/stats/overview?days=1');
    // x: 3 days ago; y: 35; z: today (noon today may still be ahead: then 1 and 2 days ago are within 48 h).
    const zWithin24h = Date.now() - Date.parse(noon(0)) >= 0 || Date.now() - Date.parse(noon(1)) < DAY;
    expect(o.activeUsers).toEqual({ day: zWithin24h ? 1 : 0, week: 2, month: 2 });
  });
});

describe('GET /v1/stats/retention', () => {
  let s: Scenario;
  const t = todayUtc();
  const monday = t - ((new Date(t).getUTCDay() + 6) % 7) * DAY; // this week's Monday (UTC)
  const week = (k: number) => monday - k * 7 * DAY;
  const iso = (ms: number) => new Date(ms).toISOString();

  beforeAll(async () => {
    s = await scenario();
    const make = async (created: number) => {
      const { id } = await createUser(s.h);
      await s.h.query(`update users set created_at = $1 where id = $2`, [iso(created), id]);
      return id;
    };
    // Cohort of 3 weeks ago: a active in weeks 0, 1 and 3; b in week 2 only; c never.
    const a = await make(week(3) + DAY);
    const b = await make(week(3) + 6 * DAY + 23 * 3_600_000 + 30 * 60_000); // Sunday 23:30 UTC: Monday 00:30 in Paris
    await make(week(3) + 3 * DAY);
    await s.active(a, iso(week(3) + DAY + 60_000), iso(week(2) + 2 * DAY), iso(week(0) + 60_000));
    await s.active(b, iso(week(1) + 3 * DAY));
    // Cohort of this week: d active this week.
    const d = await make(week(0) + 1000);
    await s.active(d, iso(week(0) + 2000));
    // Created 12 weeks ago: outside weeks=12 (which starts 11 weeks ago).
    const old = await make(week(12) + DAY);
    await s.active(old, iso(week(0) + 1000));
  });
  afterAll(() => s.h.drop());

  it('cohorts of Monday-based weeks, oldest first, with sizes and activity per week after', async () => {
    const { data } = await s.get('/v1/stats/retention');
    expect(data).toHaveLength(12);
    expect(data.map((c: { cohort: string }) => c.cohort)).toEqual(Array.from({ length: 12 }, (_, i) => ymd(week(11 - i))));
    for (const [i, c] of data.entries()) expect(c.active).toHaveLength(12 - i);
    const empty = (k: number) => ({ cohort: ymd(week(k)), size: 0, active: Array(k + 1).fill(0) });
    expect(data.at(-4)).toEqual({ cohort: ymd(week(3)), size: 3, active: [1, 1, 1, 1] });
    // This week: d and the analyst who signed in for the scenario (their activity was wiped).
    expect(data.at(-1)).toEqual({ cohort: ymd(week(0)), size: 2, active: [1] });
    expect(data.at(-2)).toEqual(empty(1));
    expect(data[0]).toEqual(empty(11));
  });

  it('weeks are calendar weeks of tz: an account created Sunday 23:30 UTC joins the next cohort in Paris', async () => {
    // From the masks, then from the rollups of Paris once it is tracked: the same cohorts.
    for (const tracked of [false, true]) {
      if (tracked) await s.h.query(`select activity_track_zone('Europe/Paris')`);
      const { data } = await s.get('/v1/stats/retention?weeks=4&tz=Europe/Paris');
      expect(data.map((c: { cohort: string }) => c.cohort)).toEqual([3, 2, 1, 0].map((k) => ymd(week(k))));
      expect(data[0]).toEqual({ cohort: ymd(week(3)), size: 2, active: [1, 1, 0, 1] });
      expect(data[1]).toEqual({ cohort: ymd(week(2)), size: 1, active: [0, 1, 0] });
    }
    const [{ n }] = (await s.h.query<{ n: string }>(`select count(*) as n from activity_zone_weekly where zone = 'Europe/Paris'`)) as [{ n: string }];
    expect(Number(n)).toBeGreaterThan(0);
    await s.h.query(`select activity_untrack_zone('Europe/Paris')`);
  });

  it('the UTC rollup and the quarter-hour masks agree', async () => {
    for (const weeks of [1, 4, 12, 52]) {
      const utc = await s.get(`/v1/stats/retention?weeks=${weeks}`);
      expect(await s.get(`/v1/stats/retention?weeks=${weeks}&tz=Africa/Abidjan`)).toEqual(utc);
    }
  });

  it('weeks is 1..52', async () => {
    expect((await s.get('/v1/stats/retention?weeks=1')).data).toHaveLength(1);
    expect((await s.get('/v1/stats/retention?weeks=52')).data).toHaveLength(52);
    for (const weeks of ['0', '53', '-1', '2.0']) expectInvalid(await s.h.call('GET', `/v1/stats/retention?weeks=${weeks}`, { token: s.token }), 'weeks');
  });

  it('403 for a viewer, 401 without a token', async () => {
    const viewer = await userWithToken(s.h, ['viewer']);
    for (const route of ['/v1/stats/active-users', '/v1/stats/retention']) {
      expectProblem(await s.h.call('GET', route, { token: viewer.token }), 403);
      expectProblem(await s.h.call('GET', route), 401);
    }
  });
});

describe('recording activity', () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await scenario();
    // Zones tracked with rollups of their own: every write below keeps them too, and they must equal a rebuild.
    await s.h.query(`select activity_track_zone('Europe/Paris'), activity_track_zone('Pacific/Auckland')`);
  });
  afterAll(() => s.h.drop());

  type Row = { day: string; quarters: string; prev_day: string | null; xmin: string };
  const rows = (userId: number) =>
    s.h.query<Row>(`select day::text, quarters::text, prev_day::text, xmin::text from user_activity where user_id = $1 order by day`, [userId]);
  const quarterNow = () => {
    const d = new Date();
    return d.getUTCHours() * 4 + Math.floor(d.getUTCMinutes() / 15);
  };
  const rollups = () =>
    s.h.query(`select 'd' as k, day::text as a, gap::text as b, shard, users from activity_daily where users <> 0
               union all select 'w', cohort::text, week::text, shard, users from activity_weekly where users <> 0
               union all select 'zd:' || zone, day::text, gap::text, shard, users from activity_zone_daily where users <> 0
               union all select 'zw:' || zone, cohort::text, week::text, shard, users from activity_zone_weekly where users <> 0
               union all select 'zl:' || zone, user_id::text, day::text || '/' || coalesce(prev_day::text, ''), 0, 0 from activity_zone_last
               order by 1, 2, 3, 4`);

  it('a sign-in marks the current UTC quarter-hour of today, in the statements it already runs', async () => {
    const user = await createUser(s.h);
    const res = await s.h.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password } });
    expect(res.status).toBe(200);
    expect(res.statements).toBe(2);
    const [row] = await rows(user.id);
    expect(row!.day).toBe(ymd(Date.now()));
    const q = quarterNow();
    // The quarter-hour may have turned between the sign-in and this line.
    expect([q, q - 1]).toContain(row!.quarters.indexOf('1'));
    expect(row!.quarters.replace(/0/g, '')).toBe('1');
    expect(row!.prev_day).toBeNull();
    const [last] = await s.h.query<{ at: string }>(`select at::text from user_last_activity where user_id = $1`, [user.id]);
    expect(last).toBeDefined();
    // Today in each tracked zone, its first local day.
    const local = (zone: string) => new Intl.DateTimeFormat('en-CA', { timeZone: zone }).format(new Date());
    const zones = await s.h.query<{ zone: string; day: string; prev_day: string | null }>(
      `select zone, day::text, prev_day::text from activity_zone_last where user_id = $1 order by zone`,
      [user.id],
    );
    // The local date may have turned between the sign-in and this line; it is one of the two.
    expect(zones.map((z) => z.zone)).toEqual(['Europe/Paris', 'Pacific/Auckland']);
    for (const z of zones) {
      expect(z.prev_day).toBeNull();
      expect([local(z.zone), ymd(Date.parse(`${local(z.zone)}T00:00:00Z`) - DAY)]).toContain(z.day);
    }
  });

  it('a refresh counts as activity; within the same quarter-hour it writes nothing more', async () => {
    const user = await createUser(s.h);
    const pair = (await s.h.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password } })).body;
    // An earlier day, so this refresh's row is the account's first of today, with a gap.
    await s.h.query(`update user_activity set day = day - 3 where user_id = $1`, [user.id]);
    await s.h.query(`select rebuild_activity_prev_days(), rebuild_activity_rollups()`);
    const refreshed = await s.h.call('POST', '/v1/auth/refresh', { body: { refreshToken: pair.refreshToken } });
    expect(refreshed.status).toBe(200);
    expect(refreshed.statements).toBe(1);
    const after = await rows(user.id);
    expect(after.map((r) => [r.day, r.prev_day])).toEqual([
      [ymd(Date.now() - 3 * DAY), null],
      [ymd(Date.now()), ymd(Date.now() - 3 * DAY)],
    ]);
    const again = await s.h.call('POST', '/v1/auth/refresh', { body: { refreshToken: refreshed.body.refreshToken } });
    expect(again.status).toBe(200);
    const last = await rows(user.id);
    if (last[1]!.quarters === after[1]!.quarters) expect(last[1]!.xmin).toBe(after[1]!.xmin);
  });

  it('plain reads write no activity', async () => {
    const user = await userWithToken(s.h, ['admin']);
    const before = await rows(user.id);
    const [{ n: lastBefore }] = (await s.h.query<{ n: string }>(`select xmin::text as n from user_last_activity where user_id = $1`, [user.id])) as [{ n: string }];
    for (const path of ['/v1/me', '/v1/stats/overview', '/v1/stats/active-users', '/v1/stats/retention', `/v1/users/${user.id}`]) {
      expect((await s.h.call('GET', path, { token: user.token })).status).toBe(200);
    }
    expect(await rows(user.id)).toEqual(before);
    const [{ n: lastAfter }] = (await s.h.query<{ n: string }>(`select xmin::text as n from user_last_activity where user_id = $1`, [user.id])) as [{ n: string }];
    expect(lastAfter).toBe(lastBefore);
  });

  it('a failed or locked-out sign-in and a rejected refresh record nothing', async () => {
    const user = await createUser(s.h);
    expect((await s.h.call('POST', '/v1/auth/login', { body: { email: user.email, password: 'wrong password here' } })).status).toBe(401);
    expect((await s.h.call('POST', '/v1/auth/refresh', { body: { refreshToken: 'x'.repeat(43) } })).status).toBe(401);
    expect(await rows(user.id)).toEqual([]);
  });

  it('the incremental rollups equal a rebuild from user_activity, also after deleting an account', async () => {
    const admin = await userWithToken(s.h, ['admin']);
    const people = await Promise.all([1, 2, 3].map(() => createUser(s.h)));
    for (const p of people) await s.h.call('POST', '/v1/auth/login', { body: { email: p.email, password: p.password } });
    expect((await s.h.call('DELETE', `/v1/users/${people[0]!.id}`, { token: admin.token })).status).toBe(204);
    const incremental = await rollups();
    await s.h.query(`select rebuild_activity_prev_days(), rebuild_activity_rollups()`);
    expect(await rollups()).toEqual(incremental);
    expect(await rows(people[0]!.id)).toEqual([]);
  });

  it('concurrent sign-ins of one account count it once', async () => {
    const user = await createUser(s.h);
    const results = await Promise.all(
      Array.from({ length: 4 }, () => s.h.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password } })),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const incremental = await rollups();
    await s.h.query(`select rebuild_activity_prev_days(), rebuild_activity_rollups()`);
    expect(await rollups()).toEqual(incremental);
  });
});
