import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectInvalid, expectProblem } from './expect';
import { createHarness, createUser, uniqueEmail, userWithToken, type Harness } from './harness';

type Overview = {
  users: { total: number; enabled: number; disabled: number; newInPeriod: number };
  roles: { name: string; users: number }[];
  signups: { date: string; count: number }[];
  logins: { date: string; succeeded: number; failed: number }[];
  activeUsers: { day: number; week: number; month: number };
};

let h: Harness;
let admin: Awaited<ReturnType<typeof userWithToken>>;
let analyst: Awaited<ReturnType<typeof userWithToken>>;
let viewer: Awaited<ReturnType<typeof userWithToken>>;

beforeAll(async () => {
  h = await createHarness();
  // Far from UTC and with daylight saving on purpose: every day boundary below must still be a UTC one.
  const name = new URL(h.databaseUrl).pathname.slice(1);
  await h.query(`alter database ${name} set timezone to 'Pacific/Auckland'`);
  admin = await userWithToken(h, ['admin']);
  analyst = await userWithToken(h, ['analyst']);
  viewer = await userWithToken(h, ['viewer']);
});
afterAll(() => h.drop());

const utcDay = (offset = 0) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

async function overview(days?: number | string, token = analyst.token): Promise<Overview> {
  const res = await h.call('GET', `/v1/stats/overview${days === undefined ? '' : `?days=${days}`}`, { token });
  expect(res.status, res.text).toBe(200);
  expect(res.statements).toBe(1);
  return res.body;
}

const today = <T extends { date: string }>(series: T[]) => series[series.length - 1]!;
const on = <T extends { date: string }>(series: T[], date: string) => {
  const entry = series.find((e) => e.date === date);
  if (!entry) throw new Error(`no entry for ${date}`);
  return entry;
};
const sum = (series: { count: number }[]) => series.reduce((n, e) => n + e.count, 0);

describe('GET /v1/stats/overview: access', () => {
  it('401 without a token', async () => {
    expectProblem(await h.call('GET', '/v1/stats/overview'), 401);
  });

  it('403 for a viewer, even with an invalid days', async () => {
    for (const q of ['', '?days=0']) {
      const res = await h.call('GET', `/v1/stats/overview${q}`, { token: viewer.token });
      expectProblem(res, 403);
      // Decided by the database (the one statement that checks the caller), before validation.
      expect(res.statements).toBe(1);
    }
  });

  it('200 for an analyst and for an admin, in one statement', async () => {
    for (const token of [analyst.token, admin.token]) {
      const res = await h.call('GET', '/v1/stats/overview?days=7', { token });
      expect(res.status).toBe(200);
      expect(res.statements).toBe(1);
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(Object.keys(res.body).sort()).toEqual(['activeUsers', 'logins', 'roles', 'signups', 'users']);
    }
  });

  it('405 for another method', async () => {
    expectProblem(await h.call('POST', '/v1/stats/overview', { token: admin.token, body: {} }), 405);
  });
});

describe('GET /v1/stats/overview: days', () => {
  it.each(['0', '366', '-1', '1.5', '30.0', '1e1', 'abc', '', ' 7', '0x10', '99999999999999999999'])('days=%j is a 422 naming days', async (days) => {
    const res = await h.call('GET', `/v1/stats/overview?days=${encodeURIComponent(days)}`, { token: analyst.token });
    expectInvalid(res, 'days');
    expect(res.body.errors).toHaveLength(1);
    // The caller check only.
    expect(res.statements).toBe(1);
  });

  it.each([1, 30, 365])('days=%i gives that many consecutive UTC days per series, oldest first, ending today', async (days) => {
    const before = utcDay();
    const body = await overview(days);
    const after = utcDay();
    for (const series of [body.signups, body.logins] as { date: string }[][]) {
      expect(series).toHaveLength(days);
      expect([before, after]).toContain(today(series).date);
      for (let i = 1; i < series.length; i++) {
        const step = Date.parse(`${series[i]!.date}T00:00:00Z`) - Date.parse(`${series[i - 1]!.date}T00:00:00Z`);
        expect(step).toBe(86_400_000);
      }
    }
    expect(body.signups.map((e) => e.date)).toEqual(body.logins.map((e) => e.date));
    for (const e of body.signups) expect(e).toEqual({ date: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/), count: expect.any(Number) });
    for (const e of body.logins) {
      expect(e).toEqual({ date: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/), succeeded: expect.any(Number), failed: expect.any(Number) });
    }
    expect(body.users.newInPeriod).toBe(sum(body.signups));
  });

  it('defaults to 30 days', async () => {
    const body = await overview();
    expect(body.signups).toHaveLength(30);
    expect(body.logins).toHaveLength(30);
  });

  it('is independent of the session time zone', async () => {
    // The database's own day is already tomorrow (UTC+12/+13) for half of every UTC day; the API's stays UTC.
    const [row] = await h.query<{ zone: string }>(`select current_setting('TimeZone') as zone`);
    expect(row!.zone).toBe('Pacific/Auckland');
    const before = utcDay();
    const body = await overview(1);
    expect([before, utcDay()]).toContain(body.signups[0]!.date);
    expect([before, utcDay()]).toContain(body.logins[0]!.date);
  });
});

describe('GET /v1/stats/overview: figures', () => {
  it('users.total, enabled and disabled match the table', async () => {
    await createUser(h, { disabled: true });
    const body = await overview();
    const [row] = await h.query<{ total: number; disabled: number }>(
      'select count(*)::int as total, (count(*) filter (where disabled))::int as disabled from users',
    );
    expect(body.users.total).toBe(row!.total);
    expect(body.users.disabled).toBe(row!.disabled);
    expect(body.users.disabled).toBeGreaterThanOrEqual(1);
    expect(body.users.enabled).toBe(row!.total - row!.disabled);
  });

  it('a registration moves today’s signups, users.total, enabled and newInPeriod by one', async () => {
    const before = await overview();
    const res = await h.call('POST', '/v1/auth/register', {
      body: { name: 'New Person', email: uniqueEmail('stats-reg'), password: 'a long enough password' },
    });
    expect(res.status).toBe(201);
    const after = await overview();
    expect(today(after.signups).date).toBe(today(before.signups).date);
    expect(today(after.signups).count).toBe(today(before.signups).count + 1);
    expect(after.users.total).toBe(before.users.total + 1);
    expect(after.users.enabled).toBe(before.users.enabled + 1);
    expect(after.users.disabled).toBe(before.users.disabled);
    expect(after.users.newInPeriod).toBe(before.users.newInPeriod + 1);
    const viewers = (body: Overview) => body.roles.find((r) => r.name === 'viewer')!.users;
    expect(viewers(after)).toBe(viewers(before) + 1);
  });

  it('an account created by other means (admin, directly) counts as a signup too', async () => {
    const before = await overview(1);
    await createUser(h);
    const after = await overview(1);
    expect(after.signups[0]!.count).toBe(before.signups[0]!.count + 1);
    expect(after.users.newInPeriod).toBe(before.users.newInPeriod + 1);
  });

  it('a failed sign-in moves today’s failed logins; a successful one moves succeeded and activeUsers', async () => {
    const user = await createUser(h);
    const before = await overview();
    let res = await h.call('POST', '/v1/auth/login', { body: { email: user.email, password: 'not the password at all' } });
    expect(res.status).toBe(401);
    res = await h.call('POST', '/v1/auth/login', { body: { email: uniqueEmail('nobody'), password: 'not the password at all' } });
    expect(res.status).toBe(401);
    const middle = await overview();
    expect(today(middle.logins).failed).toBe(today(before.logins).failed + 2);
    expect(today(middle.logins).succeeded).toBe(today(before.logins).succeeded);

    res = await h.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password } });
    expect(res.status).toBe(200);
    const after = await overview();
    expect(today(after.logins).succeeded).toBe(today(before.logins).succeeded + 1);
    expect(today(after.logins).failed).toBe(today(middle.logins).failed);
    expect(after.activeUsers).toEqual({
      day: before.activeUsers.day + 1,
      week: before.activeUsers.week + 1,
      month: before.activeUsers.month + 1,
    });

    // A second sign-in of the same user is another login but not another active user.
    res = await h.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password } });
    expect(res.status).toBe(200);
    const again = await overview();
    expect(today(again.logins).succeeded).toBe(today(after.logins).succeeded + 1);
    expect(again.activeUsers).toEqual(after.activeUsers);
  });

  it('history lands on its UTC day, also right at midnight, and only inside the period', async () => {
    const before30 = await overview(30);
    const before365 = await overview(365);
    // Relative to the server's UTC day, so the test cannot straddle midnight between here and there.
    const [days] = await h.query<{ d2: string; d1: string; d40: string }>(`
      select to_char((now() at time zone 'UTC')::date - 2, 'YYYY-MM-DD') as d2,
             to_char((now() at time zone 'UTC')::date - 1, 'YYYY-MM-DD') as d1,
             to_char((now() at time zone 'UTC')::date - 40, 'YYYY-MM-DD') as d40`);
    const midnight = `((now() at time zone 'UTC')::date - 1)::timestamp at time zone 'UTC'`;
    await h.query(`
      insert into audit_events (at, actor_id, action, target_type, target_id) values
        (${midnight} - interval '1 millisecond', null, 'auth.login_failed', 'user', null),
        (${midnight} - interval '1 millisecond', 1, 'auth.login', 'user', '1'),
        (${midnight}, null, 'auth.login_failed', 'user', null),
        (${midnight}, null, 'auth.login_failed', 'user', null),
        (${midnight} + interval '1 hour', 1, 'auth.logout', 'session', null),
        (${midnight} - interval '39 days', 1, 'auth.login', 'user', '1')`);
    await h.query(`
      insert into users (name, email, hashed_password, created_at)
      select 'Old ' || i, 'stats-old-' || i || '-' || md5(random()::text) || '@example.com', 'x', ts
      from (values (1, ${midnight} - interval '1 millisecond'), (2, ${midnight}), (3, ${midnight}),
                   (4, ${midnight} - interval '39 days' + interval '5 hours')) v(i, ts)`);

    const after30 = await overview(30);
    expect(on(after30.logins, days!.d2)).toEqual({ date: days!.d2, succeeded: on(before30.logins, days!.d2).succeeded + 1, failed: on(before30.logins, days!.d2).failed + 1 });
    expect(on(after30.logins, days!.d1)).toEqual({ date: days!.d1, succeeded: on(before30.logins, days!.d1).succeeded, failed: on(before30.logins, days!.d1).failed + 2 });
    expect(on(after30.signups, days!.d2).count).toBe(on(before30.signups, days!.d2).count + 1);
    expect(on(after30.signups, days!.d1).count).toBe(on(before30.signups, days!.d1).count + 2);
    expect(after30.users.newInPeriod).toBe(before30.users.newInPeriod + 3);
    expect(after30.users.newInPeriod).toBe(sum(after30.signups));
    expect(after30.users.total).toBe(before30.users.total + 4);

    const after365 = await overview(365);
    expect(on(after365.signups, days!.d40).count).toBe(on(before365.signups, days!.d40).count + 1);
    expect(on(after365.logins, days!.d40).succeeded).toBe(on(before365.logins, days!.d40).succeeded + 1);
    expect(after365.users.newInPeriod).toBe(before365.users.newInPeriod + 4);
    expect(after365.users.newInPeriod).toBe(sum(after365.signups));
  });

  it('activeUsers counts users by their latest successful sign-in in the last 24 hours, 7 and 30 days', async () => {
    const before = await overview();
    const ages = ['2 hours', '23 hours', '3 days', '6 days', '20 days', '29 days', '31 days', '200 days'];
    for (const age of ages) {
      const user = await createUser(h);
      await h.query(`update users set last_login_at = now() - $1::interval where id = $2`, [age, user.id]);
    }
    await createUser(h); // never signed in
    const after = await overview(1);
    expect(after.activeUsers).toEqual({
      day: before.activeUsers.day + 2,
      week: before.activeUsers.week + 4,
      month: before.activeUsers.month + 6,
    });
    const [row] = await h.query<{ day: number; week: number; month: number }>(`
      select (count(*) filter (where last_login_at > now() - interval '1 day'))::int as day,
             (count(*) filter (where last_login_at > now() - interval '7 days'))::int as week,
             (count(*) filter (where last_login_at > now() - interval '30 days'))::int as month from users`);
    expect(after.activeUsers).toEqual(row);
  });

  it('roles lists every role by name with its number of holders', async () => {
    await h.query(`insert into roles (name, description) values ('zz-empty', null), ('auditors', 'Reads the trail')`);
    await createUser(h, { roles: ['auditors', 'analyst'] });
    await createUser(h, { roles: ['auditors'], disabled: true });
    const body = await overview();
    const expected = await h.query<{ name: string; users: number }>(`
      select r.name, count(ur.user_id)::int as users from roles r left join users_roles ur on ur.role_id = r.id
      group by r.name order by r.name`);
    expect(body.roles).toEqual(expected);
    expect(body.roles.map((r) => r.name)).toEqual([...body.roles.map((r) => r.name)].sort());
    expect(body.roles.find((r) => r.name === 'auditors')!.users).toBe(2);
    expect(body.roles.find((r) => r.name === 'zz-empty')!.users).toBe(0);
    expect(body.roles.find((r) => r.name === 'admin')!.users).toBeGreaterThanOrEqual(1);
  });

  it('a year of series agrees with the tables grouped by UTC day, across daylight-saving changes', async () => {
    // Random instants over 400 days, some exactly on UTC midnights, under a session zone with daylight saving.
    await h.query(`
      insert into audit_events (at, action, target_type)
      select case when i % 5 = 0 then date_trunc('day', now() at time zone 'UTC') at time zone 'UTC' - (i % 400) * interval '1 day'
                  else now() - random() * interval '400 days' end,
             case when i % 3 = 0 then 'auth.login_failed' else 'auth.login' end, 'user'
      from generate_series(1, 600) i`);
    await h.query(`
      insert into users (name, email, hashed_password, created_at)
      select 'Year ' || i, 'stats-year-' || i || '-' || md5(random()::text) || '@example.com', 'x',
             case when i % 4 = 0 then date_trunc('day', now() at time zone 'UTC') at time zone 'UTC' - (i % 400) * interval '1 day'
                  else now() - random() * interval '400 days' end
      from generate_series(1, 300) i`);
    const body = await overview(365);
    const [reference] = await h.query<{ signups: { date: string; count: number }[]; logins: { date: string; succeeded: number; failed: number }[] }>(`
      with days as (select (now() at time zone 'UTC')::date - i as day from generate_series(0, 364) i)
      select
        (select json_agg(json_build_object('date', to_char(d.day, 'YYYY-MM-DD'), 'count',
                  (select count(*) from users u where (u.created_at at time zone 'UTC')::date = d.day)) order by d.day) from days d) as signups,
        (select json_agg(json_build_object('date', to_char(d.day, 'YYYY-MM-DD'),
                  'succeeded', (select count(*) from audit_events e where e.action = 'auth.login' and (e.at at time zone 'UTC')::date = d.day),
                  'failed', (select count(*) from audit_events e where e.action = 'auth.login_failed' and (e.at at time zone 'UTC')::date = d.day))
                  order by d.day) from days d) as logins`);
    expect(body.signups).toEqual(reference!.signups);
    expect(body.logins).toEqual(reference!.logins);
    expect(body.users.newInPeriod).toBe(sum(body.signups));
  });
});
