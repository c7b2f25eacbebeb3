/**
 * The HTTP contract, §7 dashboard analytics: overview, series, the audit log.
 * The live stack and the checks every answer gets: ./fixtures.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  analyst, DAY, db, del, email, expectStatus, get, ISO, login, patch, post, put, PW, register, root, viewer,
  useContractStack
} from './fixtures';

useContractStack();

describe('§7 dashboard analytics', () => {
  const utcDay = (d: Date) => d.toISOString().slice(0, 10);

  it('GET /v1/stats/overview → the documented shape; admin or analyst only', async () => {
    for (const t of [root.accessToken, analyst.accessToken]) expectStatus(await get('/v1/stats/overview', t), 200);
    expectStatus(await get('/v1/stats/overview', viewer.accessToken), 403);
    expectStatus(await get('/v1/stats/overview'), 401);
    const res = await get('/v1/stats/overview', root.accessToken);
    const o = res.body;
    expect(Object.keys(o).sort()).toEqual(['activeUsers', 'logins', 'mfa', 'previous', 'roles', 'sessions', 'signups', 'users']);
    expect(Object.keys(o.users).sort()).toEqual(['disabled', 'enabled', 'newInPeriod', 'total']);
    expect(Object.keys(o.activeUsers).sort()).toEqual(['day', 'month', 'week']);
    for (const v of [...Object.values(o.users), ...Object.values(o.activeUsers)]) expect(Number.isInteger(v) && (v as number) >= 0).toBe(true);
    expect(o.users.total).toBe(o.users.enabled + o.users.disabled);
    const counts = await db<{ total: number; disabled: number }>('select count(*)::int as total, count(*) filter (where disabled)::int as disabled from users');
    expect(o.users.total).toBe(counts[0]!.total);
    expect(o.users.disabled).toBe(counts[0]!.disabled);
    expect(o.activeUsers.day).toBeGreaterThanOrEqual(1);
    expect(o.activeUsers.day).toBeLessThanOrEqual(o.activeUsers.week);
    expect(o.activeUsers.week).toBeLessThanOrEqual(o.activeUsers.month);
    const roleNames = o.roles.map((r: any) => r.name);
    expect(roleNames).toEqual(expect.arrayContaining(['admin', 'analyst', 'viewer']));
    for (const r of o.roles) {
      expect(Object.keys(r).sort()).toEqual(['name', 'users']);
      expect(Number.isInteger(r.users)).toBe(true);
    }
    const roles = await get('/v1/roles', root.accessToken);
    for (const r of roles.body.data) expect(o.roles.find((x: any) => x.name === r.name)?.users).toBe(r.userCount);
  });

  it('series: one entry per UTC day of the period, oldest first, zero-filled; days 1..365, default 30', async () => {
    for (const days of [1, 7, 30, 365, undefined]) {
      const before = utcDay(new Date());
      const res = await get(`/v1/stats/overview${days ? `?days=${days}` : ''}`, root.accessToken);
      const after = utcDay(new Date());
      expectStatus(res, 200);
      const n = days ?? 30;
      const { signups, logins, users } = res.body;
      expect(signups).toHaveLength(n);
      expect(logins).toHaveLength(n);
      for (const s of signups) {
        expect(Object.keys(s).sort()).toEqual(['count', 'date']);
        expect(s.date).toMatch(DAY);
        expect(Number.isInteger(s.count) && s.count >= 0).toBe(true);
      }
      for (const l of logins) {
        expect(Object.keys(l).sort()).toEqual(['date', 'failed', 'succeeded']);
        expect(Number.isInteger(l.succeeded) && Number.isInteger(l.failed)).toBe(true);
      }
      const last = signups[n - 1].date;
      expect([before, after]).toContain(last);
      for (let i = 0; i < n; i++) {
        const expected = utcDay(new Date(Date.parse(`${last}T00:00:00Z`) - (n - 1 - i) * 86_400_000));
        expect(signups[i].date).toBe(expected);
        expect(logins[i].date).toBe(expected);
      }
      expect(users.newInPeriod).toBe(signups.reduce((sum: number, s: any) => sum + s.count, 0));
      // Everything in this database happened today: all earlier days are zero.
      for (let i = 0; i < n - 1; i++) {
        expect(signups[i].count).toBe(0);
        expect(logins[i]).toEqual({ date: logins[i].date, succeeded: 0, failed: 0 });
      }
      const today = await db<{ users: number; ok: number; failed: number }>(
        `select (select count(*)::int from users where created_at >= (now() at time zone 'UTC')::date::timestamp at time zone 'UTC') as users,
                (select count(*)::int from audit_events where action = 'auth.login') as ok,
                (select count(*)::int from audit_events where action = 'auth.login_failed') as failed`,
      );
      expect(signups[n - 1].count).toBe(today[0]!.users);
      expect(logins[n - 1].succeeded).toBe(today[0]!.ok);
      expect(logins[n - 1].failed).toBe(today[0]!.failed);
    }
    for (const days of ['0', '366', '-1', 'abc', '1.5', '', '30days']) {
      expectStatus(await get(`/v1/stats/overview?days=${days}`, root.accessToken), 422);
    }
  });

  it('every documented action is recorded', async () => {
    // Each action once, in this file's own database (the other sections run against databases of their own).
    const mail = email('acted');
    const reg = await register('Acted Upon', mail);
    await login(mail);
    expectStatus(await post('/v1/auth/login', { email: mail, password: 'not the password at all' }), 401);
    const next = await post('/v1/auth/refresh', { refreshToken: reg.refreshToken });
    expectStatus(next, 200);
    expectStatus(await post('/v1/auth/refresh', { refreshToken: reg.refreshToken }), 401);
    const self = await login(mail);
    expectStatus(await post('/v1/me/password', { currentPassword: PW, newPassword: `${PW} again` }, self.accessToken), 204);
    expectStatus(await post('/v1/auth/logout', { refreshToken: self.refreshToken }), 204);
    const made = await post('/v1/users', { name: 'Made Here', email: email('made'), password: PW }, root.accessToken);
    expectStatus(made, 201);
    expectStatus(await patch(`/v1/users/${made.body.id}`, { name: 'Made Again' }, root.accessToken), 200);
    const roleName = `acting-${Date.now().toString(36)}`;
    expectStatus(await post('/v1/roles', { name: roleName }, root.accessToken), 201);
    expectStatus(await patch(`/v1/roles/${roleName}`, { description: 'for the audit' }, root.accessToken), 200);
    expectStatus(await put(`/v1/users/${made.body.id}/roles/${roleName}`, undefined, root.accessToken), 204);
    expectStatus(await del(`/v1/users/${made.body.id}/roles/${roleName}`, root.accessToken), 204);
    expectStatus(await del(`/v1/roles/${roleName}`, root.accessToken), 204);
    expectStatus(await del(`/v1/users/${made.body.id}`, root.accessToken), 204);

    const rows = await db<{ action: string }>('select distinct action from audit_events');
    const recorded = rows.map((r) => r.action);
    for (const action of [
      'user.register', 'auth.login', 'auth.login_failed', 'auth.logout', 'auth.refresh_reuse', 'user.create', 'user.update',
      'user.delete', 'user.password_change', 'role.create', 'role.update', 'role.delete', 'role.assign', 'role.unassign',
    ]) {
      expect(recorded, action).toContain(action);
      const page = await get(`/v1/audit?action=${action}&limit=1`, root.accessToken);
      expectStatus(page, 200);
      expect(page.body.data[0]?.action, action).toBe(action);
    }
    // A refused change writes no audit row (same transaction as the change).
    const n = async () => Number((await db<{ n: string }>('select count(*) as n from audit_events'))[0]!.n);
    const before = await n();
    expectStatus(await post('/v1/users', { name: 'No', email: email('no'), password: PW, roles: ['no-such-role'] }, root.accessToken), 422);
    expectStatus(await post('/v1/roles', { name: 'admin' }, root.accessToken), 409);
    expectStatus(await del('/v1/roles/viewer', root.accessToken), 409);
    expect(await n()).toBe(before);
  });

  it('GET /v1/audit → page of events with exactly their fields; admin only; filters; cursor', async () => {
    expectStatus(await get('/v1/audit', analyst.accessToken), 403);
    expectStatus(await get('/v1/audit', viewer.accessToken), 403);
    expectStatus(await get('/v1/audit'), 401);
    // More than one page of events: the actions above, and failed sign-ins if this database has fewer.
    const count = async () => Number((await db<{ n: string }>('select count(*) as n from audit_events'))[0]!.n);
    for (let n = await count(); n <= 20; n++) expectStatus(await post('/v1/auth/login', { email: email('nobody'), password: 'not the password at all' }), 401);
    const res = await get('/v1/audit', root.accessToken);
    expectStatus(res, 200);
    expect(Object.keys(res.body).sort()).toEqual(['data', 'nextCursor']);
    expect(res.body.data).toHaveLength(20);
    for (const e of res.body.data) {
      expect(Object.keys(e).sort()).toEqual(['action', 'actorId', 'at', 'details', 'id', 'ip', 'targetId', 'targetType']);
      expect(e.at).toMatch(ISO);
      expect(e.actorId === null || Number.isInteger(e.actorId)).toBe(true);
      expect(e.ip === null || typeof e.ip === 'string').toBe(true);
      expect(typeof e.targetType).toBe('string');
      expect(e.details && typeof e.details === 'object' && !Array.isArray(e.details)).toBe(true);
    }
    const ids = res.body.data.map((e: any) => e.id);
    expect(ids).toEqual([...ids].sort((a: number, b: number) => b - a));
    const next = await get(`/v1/audit?cursor=${encodeURIComponent(res.body.nextCursor)}`, root.accessToken);
    expect(Math.max(...next.body.data.map((e: any) => e.id))).toBeLessThan(Math.min(...ids));

    const mine = await get(`/v1/audit?actorId=${root.user.id}&limit=100`, root.accessToken);
    expect(mine.body.data.length).toBeGreaterThan(0);
    for (const e of mine.body.data) expect(e.actorId).toBe(root.user.id);
    const failed = await get('/v1/audit?action=auth.login_failed&limit=100', root.accessToken);
    expect(failed.body.data.length).toBeGreaterThan(0);
    for (const e of failed.body.data) expect(e.action).toBe('auth.login_failed');
    for (const bad of ['action=bogus', 'action=', 'actorId=abc', 'actorId=0', 'actorId=-1', 'actorId=99999999999', 'limit=0', 'limit=101']) {
      expectStatus(await get(`/v1/audit?${bad}`, root.accessToken), 422);
    }
    expectStatus(await get('/v1/audit?cursor=tampered', root.accessToken), 400);
  });
});
