/**
 * The overview's counters (drizzle/0011_stats_counters.sql) against the rows they count: after every kind of change
 * the triggers must leave exactly what a full recount gives, and the overview must equal counts of the base tables
 * in zones offset by half and quarter hours, with events on the very edges of their days.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, createUser, signIn, userWithToken, type Harness } from './harness';

let h: Harness;
let analyst: Awaited<ReturnType<typeof userWithToken>>;

beforeAll(async () => {
  h = await createHarness();
  analyst = await userWithToken(h, ['analyst']);
});
afterAll(() => h.drop());

/** Every non-zero counter as text, next to what a recount from the base tables gives. */
async function countersAndRecount() {
  const read = async () =>
    (
      await h.query<{ row: string }>(`
        select format('q %s %s %s %s', kind, at, shard, n) as row from stats_quarterly where n <> 0
        union all select format('h %s %s %s %s', kind, at, shard, n) from stats_hourly where n <> 0
        union all select format('t %s %s %s', shard, users, disabled) from user_totals where users <> 0
        union all select format('a %s %s %s %s', kind, at, shard, n) from quarter_histograms where n <> 0
        order by 1`)
    ).map((r) => r.row);
  const kept = await read();
  await h.query(`select rebuild_stats_counters()`);
  return { kept, recounted: await read() };
}

describe('stats counters', () => {
  it('stay equal to a recount through sign-ups, sign-ins, refreshes, revocations, disabling, deletions, moved dates, activity and the purge', async () => {
    const users = await Promise.all(Array.from({ length: 6 }, () => createUser(h)));
    await signIn(h, users[0]!);
    await signIn(h, users[1]!);
    expect((await h.call('POST', '/v1/auth/login', { body: { email: users[2]!.email, password: 'wrong password here' } })).status).toBe(401);
    await h.query(`update users set created_at = now() - interval '3 days 7 minutes' where id = $1`, [users[3]!.id]);
    await h.query(`update users set name = 'Renamed' where id = $1`, [users[4]!.id]);
    await h.query(`insert into user_last_activity as l (user_id, at) values ($1, now() - interval '2 days')
                   on conflict (user_id) do update set at = excluded.at`, [users[0]!.id]);
    await h.query(`delete from user_last_activity where user_id = $1`, [users[1]!.id]);
    await h.query(
      `insert into audit_events (at, action, target_type) select now() - interval '400 days' - g * interval '1 hour',
         case when g % 3 = 0 then 'auth.login_failed' else 'auth.login' end, 'user' from generate_series(1, 9) g`,
    );
    await h.query(`select purge_audit_events(now() - interval '399 days', 4)`);
    const admin = await userWithToken(h, ['admin']);
    expect((await h.call('DELETE', `/v1/users/${users[5]!.id}`, { token: admin.token })).status).toBe(204);
    const third = await signIn(h, users[3]!);
    expect((await h.call('POST', '/v1/auth/refresh', { body: { refreshToken: third.refreshToken } })).status).toBe(200);
    expect((await h.call('PATCH', `/v1/users/${users[4]!.id}`, { token: admin.token, body: { disabled: true } })).status).toBe(200);
    expect((await h.call('POST', '/v1/auth/logout-all', { token: third.accessToken })).status).toBe(204);
    await h.query(`insert into sessions (user_id, expires_at) values ($1, now() + interval '3 minutes'), ($1, now() - interval '1 minute')`, [users[2]!.id]);

    const res = await h.call('GET', '/v1/stats/overview?days=7', { token: analyst.token });
    expect(res.status, res.text).toBe(200);
    const [truth] = await h.query<{ total: number; disabled: number; live: number }>(
      `select (select count(*)::int from users) as total, (select count(*)::int from users where disabled) as disabled,
              (select count(*)::int from sessions where revoked_at is null and expires_at > now()) as live`,
    );
    expect(res.body.users).toMatchObject({ total: truth!.total, disabled: truth!.disabled, enabled: truth!.total - truth!.disabled });
    expect(truth!.disabled).toBe(1);
    expect(res.body.sessions.active).toBe(truth!.live);

    const { kept, recounted } = await countersAndRecount();
    expect(recounted.length).toBeGreaterThan(0);
    expect(kept).toEqual(recounted);
  });

  it('concurrent sign-ins all succeed and are all counted', async () => {
    const users = await Promise.all(Array.from({ length: 12 }, () => createUser(h)));
    const before = await h.query<{ n: number }>(`select coalesce(sum(n), 0)::int as n from stats_quarterly where kind = 1`);
    const results = await Promise.all(users.map((u) => h.call('POST', '/v1/auth/login', { body: { email: u.email, password: u.password } })));
    expect(results.map((r) => r.status)).toEqual(users.map(() => 200));
    const after = await h.query<{ n: number }>(`select coalesce(sum(n), 0)::int as n from stats_quarterly where kind = 1`);
    expect(after[0]!.n - before[0]!.n).toBe(12);
    const { kept, recounted } = await countersAndRecount();
    expect(kept).toEqual(recounted);
  });

  it('the overview equals counts of the rows in quarter-hour zones, with events on the edges of local days', async () => {
    // Instants 1 µs either side of each local midnight of the last three days, and on the quarter-hours around it.
    for (const tz of ['Asia/Kathmandu', 'Asia/Kolkata', 'Pacific/Chatham', 'America/St_Johns']) {
      await h.query(
        `insert into audit_events (at, action, target_type)
         select m + o, case when k = 0 then 'auth.login' else 'auth.login_failed' end, 'user'
         from generate_series(0, 2) d,
              lateral (select ((now() at time zone $1)::date - d)::timestamp at time zone $1 as m) b,
              unnest(array[interval '-1 microsecond', interval '0', interval '-15 minutes', interval '45 minutes', interval '1 hour 14 minutes']) o,
              generate_series(0, 1) k`,
        [tz],
      );
    }
    for (const tz of ['Asia/Kathmandu', 'Asia/Kolkata', 'Pacific/Chatham', 'America/St_Johns', 'UTC']) {
      const res = await h.call('GET', `/v1/stats/overview?days=3&tz=${encodeURIComponent(tz)}`, { token: analyst.token });
      expect(res.status, res.text).toBe(200);
      const truth = await h.query<{ date: string; succeeded: number; failed: number; signups: number }>(
        `select to_char(d, 'YYYY-MM-DD') as date,
           (select count(*)::int from audit_events where action = 'auth.login' and (at at time zone $1)::date = d) as succeeded,
           (select count(*)::int from audit_events where action = 'auth.login_failed' and (at at time zone $1)::date = d) as failed,
           (select count(*)::int from users where (created_at at time zone $1)::date = d) as signups
         from generate_series(0, 2) i, lateral (select (now() at time zone $1)::date - 2 + i as d) x order by d`,
        [tz],
      );
      expect(res.body.logins, tz).toEqual(truth.map(({ date, succeeded, failed }) => ({ date, succeeded, failed })));
      expect(res.body.signups, tz).toEqual(truth.map(({ date, signups }) => ({ date, count: signups })));
      const [previous] = await h.query<{ succeeded: number; failed: number }>(
        `select count(*) filter (where action = 'auth.login')::int as succeeded, count(*) filter (where action = 'auth.login_failed')::int as failed
         from audit_events where (at at time zone $1)::date between (now() at time zone $1)::date - 5 and (now() at time zone $1)::date - 3`,
        [tz],
      );
      expect(res.body.previous.logins, tz).toEqual(previous);
    }
  });
});
