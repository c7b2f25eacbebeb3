/**
 * The HTTP contract, §4 the caller: /v1/me, password change, sessions.
 * The live stack and the checks every answer gets: ./fixtures.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  del, email, expectMe, expectStatus, expectUser, get, ISO, login, patch, post, PW, register, root, viewer,
  useContractStack
} from './fixtures';

useContractStack();

describe('§4 the caller', () => {
  it('GET /v1/me → 200 User', async () => {
    const res = await get('/v1/me', viewer.accessToken);
    expectStatus(res, 200);
    expectMe(res.body);
    expect(res.body).toMatchObject({ id: viewer.user.id, email: viewer.user.email, roles: ['viewer'], permissions: [] });
  });

  it('PATCH /v1/me {name} → 200 User; nothing else can change', async () => {
    const pair = await register('Before');
    const res = await patch('/v1/me', { name: '  After  ' }, pair.accessToken);
    expectStatus(res, 200);
    expectUser(res.body);
    expect(res.body).toEqual({ ...pair.user, name: 'After' });
    for (const body of [{ name: 'X', email: 'x@example.com' }, { name: 'X', roles: ['admin'] }, { roles: ['admin'] }, { disabled: true }, {}]) {
      expectStatus(await patch('/v1/me', body, pair.accessToken), 422);
    }
    expect((await get('/v1/me', pair.accessToken)).body).toEqual({ ...pair.user, name: 'After', permissions: [] });
    expectStatus(await patch('/v1/me', { name: 'Anon' }), 401);
  });

  it('POST /v1/me/password → 204; other refresh tokens revoked, this session stays; 401 on a wrong current password', async () => {
    const mail = email('pwd');
    await register('Pwd', mail);
    const current = await login(mail);
    const other = await login(mail);
    expectStatus(await post('/v1/me/password', { currentPassword: 'not my password', newPassword: 'a brand new password' }, current.accessToken), 401);
    expectStatus(await post('/v1/me/password', { currentPassword: PW, newPassword: 'short' }, current.accessToken), 422);
    expectStatus(await post('/v1/me/password', { currentPassword: PW }, current.accessToken), 422);
    expectStatus(await post('/v1/me/password', { currentPassword: PW, newPassword: 'a brand new password' }), 401);
    // Nothing changed so far.
    const rotated = await post('/v1/auth/refresh', { refreshToken: other.refreshToken });
    expectStatus(rotated, 200);
    other.refreshToken = rotated.body.refreshToken;
    const res = await post('/v1/me/password', { currentPassword: PW, newPassword: 'a brand new password' }, current.accessToken);
    expectStatus(res, 204);
    expect(res.text).toBe('');
    expectStatus(await post('/v1/auth/refresh', { refreshToken: other.refreshToken }), 401);
    expectStatus(await post('/v1/auth/refresh', { refreshToken: current.refreshToken }), 200);
    expectStatus(await post('/v1/auth/login', { email: mail, password: PW }), 401);
    await login(mail, 'a brand new password');
  });

  it('GET /v1/me/sessions → the live sessions with exactly their fields, current marked', async () => {
    const mail = email('sess');
    await register('Sess', mail);
    const a = await login(mail, PW, { 'user-agent': 'contract-agent/1.0' });
    const b = await login(mail);
    await post('/v1/auth/logout', { refreshToken: b.refreshToken });
    const res = await get('/v1/me/sessions', a.accessToken);
    expectStatus(res, 200);
    expect(Object.keys(res.body)).toEqual(['data']);
    expect(res.body.data).toHaveLength(2); // the registration's and a's; b is logged out
    for (const s of res.body.data) {
      expect(Object.keys(s).sort()).toEqual(['createdAt', 'current', 'id', 'ip', 'lastUsedAt', 'userAgent']);
      expect(s.createdAt).toMatch(ISO);
      expect(s.lastUsedAt).toMatch(ISO);
      expect(typeof s.current).toBe('boolean');
      expect(s.ip === null || typeof s.ip === 'string').toBe(true);
    }
    const current = res.body.data.filter((s: any) => s.current);
    expect(current).toHaveLength(1);
    expect(current[0].userAgent).toBe('contract-agent/1.0');
    // A session is one login and the refresh tokens rotated from it: a refresh keeps its id, and marks it used.
    await new Promise((r) => setTimeout(r, 20));
    const rotated = await post('/v1/auth/refresh', { refreshToken: a.refreshToken });
    expectStatus(rotated, 200);
    const after = await get('/v1/me/sessions', rotated.body.accessToken);
    expect(after.body.data.map((s: any) => s.id).sort()).toEqual(res.body.data.map((s: any) => s.id).sort());
    const same = after.body.data.find((s: any) => s.current);
    expect(same.id).toBe(current[0].id);
    expect(Date.parse(same.lastUsedAt)).toBeGreaterThan(Date.parse(current[0].lastUsedAt));
  });

  it('DELETE /v1/me/sessions/:id → 204 revokes one session; another user’s id is a 404', async () => {
    const mail = email('del');
    await register('Del', mail);
    const a = await login(mail);
    const b = await login(mail);
    const list = await get('/v1/me/sessions', a.accessToken);
    const target = list.body.data.find((s: any) => !s.current && s.id === JSON.parse(Buffer.from(b.accessToken.split('.')[1]!, 'base64url').toString()).sid);
    expect(target).toBeDefined();
    // Not the caller's: someone else's session id.
    const theirs = (await get('/v1/me/sessions', viewer.accessToken)).body.data[0].id;
    expectStatus(await del(`/v1/me/sessions/${theirs}`, a.accessToken), 404);
    expect((await get('/v1/me/sessions', viewer.accessToken)).body.data.map((s: any) => s.id)).toContain(theirs);
    for (const id of ['nope', '123', '00000000-0000-4000-8000-000000000000', "' or 1=1 --"]) {
      expectStatus(await del(`/v1/me/sessions/${encodeURIComponent(id)}`, a.accessToken), 404);
    }
    const res = await del(`/v1/me/sessions/${target.id}`, a.accessToken);
    expectStatus(res, 204);
    expect(res.text).toBe('');
    expectStatus(await post('/v1/auth/refresh', { refreshToken: b.refreshToken }), 401);
    expect((await get('/v1/me/sessions', a.accessToken)).body.data.map((s: any) => s.id)).not.toContain(target.id);
    expectStatus(await del(`/v1/me/sessions/${target.id}`), 401);
    expectStatus(await post('/v1/auth/refresh', { refreshToken: a.refreshToken }), 200);
  });

  it('a token whose user was deleted is refused (401)', async () => {
    const gone = await register('Gone');
    expectStatus(await del(`/v1/users/${gone.user.id}`, root.accessToken), 204);
    expectStatus(await get('/v1/me', gone.accessToken), 401);
  });
});
