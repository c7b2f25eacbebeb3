import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, createUser, signIn, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.drop());

const refresh = (refreshToken: string) => h.call('POST', '/v1/auth/refresh', { body: { refreshToken } });

describe('GET and PATCH /v1/me', () => {
  it('returns the caller in one statement', async () => {
    const user = await createUser(h, { roles: ['analyst', 'viewer'], name: 'Grace' });
    const { accessToken } = await signIn(h, user);
    const res = await h.call('GET', '/v1/me', { token: accessToken });
    expect(res.status).toBe(200);
    expect(res.statements).toBe(1);
    expect(res.guarded).toBe(1);
    expect(res.body).toMatchObject({ id: user.id, name: 'Grace', email: user.email, roles: ['analyst', 'viewer'], disabled: false });
    // The union over the roles held now, sorted (analyst grants five, viewer none).
    expect(res.body.permissions).toEqual(['dashboards:write', 'events:read', 'roles:read', 'stats:read', 'users:read']);
    expect(Object.keys(res.body).sort()).toEqual(['createdAt', 'disabled', 'email', 'emailVerified', 'id', 'invited', 'lastLoginAt', 'mfaEnabled', 'name', 'permissions', 'roles']);
  });

  it('changes the name (trimmed) and records it', async () => {
    const user = await createUser(h);
    const { accessToken } = await signIn(h, user);
    const res = await h.call('PATCH', '/v1/me', { token: accessToken, body: { name: '  New Name ' } });
    expect(res.status).toBe(200);
    expect(res.statements).toBe(1);
    expect(res.body.name).toBe('New Name');
    const audit = await h.query<{ actor_id: number; target_id: string }>(`select actor_id, target_id from audit_events where action = 'user.update' and actor_id = $1`, [user.id]);
    expect(audit).toEqual([{ actor_id: user.id, target_id: String(user.id) }]);
  });

  it('refuses a blank name or other fields, changing nothing', async () => {
    const user = await createUser(h, { name: 'Keep' });
    const { accessToken } = await signIn(h, user);
    for (const body of [{ name: '  ' }, { name: 'x'.repeat(101) }, { email: 'new@example.com' }, { name: 'A', roles: ['admin'] }, {}]) {
      const res = await h.call('PATCH', '/v1/me', { token: accessToken, body });
      expect(res.status).toBe(422);
    }
    expect((await h.query<{ name: string }>('select name from users where id = $1', [user.id]))[0]!.name).toBe('Keep');
    expect(await h.query(`select 1 from audit_events where action = 'user.update' and actor_id = $1`, [user.id])).toHaveLength(0);
  });

  it('401 when the account no longer exists', async () => {
    const user = await createUser(h);
    const { accessToken } = await signIn(h, user);
    await h.query('delete from users where id = $1', [user.id]);
    expect((await h.call('GET', '/v1/me', { token: accessToken })).status).toBe(401);
  });
});

describe('POST /v1/me/password', () => {
  it('changes the password and revokes the other sessions, not this one', async () => {
    const user = await createUser(h);
    const current = await signIn(h, user);
    const other = await signIn(h, user);
    const res = await h.call('POST', '/v1/me/password', {
      token: current.accessToken,
      body: { currentPassword: user.password, newPassword: 'a brand new passphrase' },
    });
    expect(res.status).toBe(204);
    expect((await refresh(other.refreshToken)).status).toBe(401);
    expect((await refresh(current.refreshToken)).status).toBe(200);
    expect((await h.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password } })).status).toBe(401);
    expect((await h.call('POST', '/v1/auth/login', { body: { email: user.email, password: 'a brand new passphrase' } })).status).toBe(200);
    expect(await h.query(`select 1 from audit_events where action = 'user.password_change' and actor_id = $1`, [user.id])).toHaveLength(1);
  });

  it('401 for a wrong current password; 422 for a short new one; nothing changes', async () => {
    const user = await createUser(h);
    const pair = await signIn(h, user);
    const [before] = await h.query<{ hashed_password: string }>('select hashed_password from users where id = $1', [user.id]);
    const wrong = await h.call('POST', '/v1/me/password', { token: pair.accessToken, body: { currentPassword: 'not my password', newPassword: 'a brand new passphrase' } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('content-type')).toContain('application/problem+json');
    const short = await h.call('POST', '/v1/me/password', { token: pair.accessToken, body: { currentPassword: user.password, newPassword: 'short' } });
    expect(short.status).toBe(422);
    expect(short.body.errors[0].path).toBe('newPassword');
    const [after] = await h.query<{ hashed_password: string }>('select hashed_password from users where id = $1', [user.id]);
    expect(after).toEqual(before);
    expect(await h.query(`select 1 from audit_events where action = 'user.password_change' and actor_id = $1`, [user.id])).toHaveLength(0);
  });
});

describe('sessions', () => {
  it('lists live sessions with the current one marked', async () => {
    const user = await createUser(h);
    const a = await signIn(h, user);
    const b = await h.call('POST', '/v1/auth/login', {
      body: { email: user.email, password: user.password },
      headers: { 'user-agent': 'TestBrowser/1.0', 'cf-connecting-ip': '203.0.113.7' },
      cf: {},
    });
    const res = await h.call('GET', '/v1/me/sessions', { token: a.accessToken });
    expect(res.status).toBe(200);
    expect(res.statements).toBe(1);
    expect(res.body.data).toHaveLength(2);
    const current = res.body.data.filter((s: any) => s.current);
    expect(current).toHaveLength(1);
    const sidOf = (token: string) => JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))).sid;
    expect(current[0].id).toBe(sidOf(a.accessToken));
    const other = res.body.data.find((s: any) => !s.current);
    expect(other).toMatchObject({ id: sidOf(b.body.accessToken), userAgent: 'TestBrowser/1.0', ip: '203.0.113.7', createdAt: expect.any(String), lastUsedAt: expect.any(String) });
  });

  it('revokes one of the caller’s sessions; idempotent; another user’s id is a 404', async () => {
    const user = await createUser(h);
    const stranger = await createUser(h);
    const mine = await signIn(h, user);
    const second = await signIn(h, user);
    const theirs = await signIn(h, stranger);
    const sidOf = (token: string) => JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))).sid;

    expect((await h.call('DELETE', `/v1/me/sessions/${sidOf(second.accessToken)}`, { token: mine.accessToken })).status).toBe(204);
    expect((await h.call('DELETE', `/v1/me/sessions/${sidOf(second.accessToken)}`, { token: mine.accessToken })).status).toBe(204);
    expect((await refresh(second.refreshToken)).status).toBe(401);
    const listed = await h.call('GET', '/v1/me/sessions', { token: mine.accessToken });
    expect(listed.body.data.map((s: any) => s.id)).toEqual([sidOf(mine.accessToken)]);

    const foreign = await h.call('DELETE', `/v1/me/sessions/${sidOf(theirs.accessToken)}`, { token: mine.accessToken });
    expect(foreign.status).toBe(404);
    expect((await refresh(theirs.refreshToken)).status).toBe(200);
    for (const id of ['not-a-uuid', '00000000-0000-0000-0000-000000000000', "1' or '1'='1"]) {
      expect((await h.call('DELETE', `/v1/me/sessions/${encodeURIComponent(id)}`, { token: mine.accessToken })).status).toBe(404);
    }
  });

  it('needs a token', async () => {
    expect((await h.call('GET', '/v1/me/sessions')).status).toBe(401);
    expect((await h.call('DELETE', '/v1/me/sessions/00000000-0000-0000-0000-000000000000')).status).toBe(401);
  });
});
