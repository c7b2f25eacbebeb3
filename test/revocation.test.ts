/**
 * Contract §8 at request time: every kind of revocation takes effect on the very next request, on every route,
 * whatever the (still unexpired) access token says — 401 when the session or the account is gone, 403 when only a
 * permission is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSION_NAMES } from '../src/auth/permissions';
import { expectProblem } from './expect';
import { createHarness, createUser, signIn, type Harness, type TestUser } from './harness';
import { GUARDED } from './routes';

let h: Harness;
let admin: { token: string };
beforeAll(async () => {
  h = await createHarness();
  admin = { token: (await signIn(h, await createUser(h, { roles: ['admin'] }))).accessToken };
});
afterAll(() => h.drop());

const sid = (token: string) => JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))).sid as string;

const LOGOUT_ALL = 'POST /v1/auth/logout-all';

/**
 * Calls every authenticated route with `token`, aimed at nothing that exists (and with an invalid body where one is
 * taken), so an admitted call changes nothing; logout-all, which would end the session, only when asked, last.
 * Returns route → status.
 */
async function everyRoute(token: string, { logoutAll = true } = {}): Promise<Record<string, number>> {
  const statuses: Record<string, number> = {};
  const routes = Object.entries(GUARDED).filter(([route]) => route !== LOGOUT_ALL);
  if (logoutAll) routes.push([LOGOUT_ALL, GUARDED[LOGOUT_ALL]!]);
  for (const [route, { body }] of routes) {
    const [method, template] = route.split(' ') as [string, string];
    const path = template.replace(':id', template.startsWith('/v1/me/sessions') ? crypto.randomUUID() : '2147483647').replace(':role', 'ghost-role');
    const res = await h.call(method, path, { token, body: body === undefined ? undefined : { junk: true } });
    // Every refusal is decided inside a statement that carried the caller check.
    if (res.status === 401 || res.status === 403) expect(res.guarded, route).toBe(res.statements);
    statuses[route] = res.status;
  }
  return statuses;
}

const expectAll = (statuses: Record<string, number>, status: number) =>
  expect(Object.entries(statuses).filter(([, s]) => s !== status)).toEqual([]);

/** A user holding every permission through a custom role (so every route admits them), signed in. */
async function powerUser() {
  const role = `power-${crypto.randomUUID().slice(0, 8)}`;
  await h.query(
    `with r as (insert into roles (name) values ($1) returning id)
     insert into role_permissions (role_id, permission) select r.id, name from r, permissions`,
    [role],
  );
  const user = await createUser(h, { roles: [role, 'viewer'] });
  const pair = await signIn(h, user);
  return { user, role, token: pair.accessToken, refreshToken: pair.refreshToken };
}

type Revocation = (p: { user: TestUser; role: string; token: string; refreshToken: string }) => Promise<unknown>;

const sessionGone: [string, Revocation][] = [
  ['logout', (p) => h.call('POST', '/v1/auth/logout', { body: { refreshToken: p.refreshToken } })],
  ['logout-all', (p) => h.call('POST', '/v1/auth/logout-all', { token: p.token })],
  ['revoking the session', (p) => h.call('DELETE', `/v1/me/sessions/${sid(p.token)}`, { token: p.token })],
  ['an admin revoking the user’s sessions', (p) => h.call('DELETE', `/v1/users/${p.user.id}/sessions`, { token: admin.token })],
  ['disabling the account', (p) => h.call('PATCH', `/v1/users/${p.user.id}`, { token: admin.token, body: { disabled: true } })],
  ['deleting the account', (p) => h.call('DELETE', `/v1/users/${p.user.id}`, { token: admin.token })],
  ['taking a role', (p) => h.call('DELETE', `/v1/users/${p.user.id}/roles/viewer`, { token: admin.token })],
  ['granting a role', (p) => h.call('PUT', `/v1/users/${p.user.id}/roles/analyst`, { token: admin.token })],
  ['replacing the roles', (p) => h.call('PUT', `/v1/users/${p.user.id}/roles`, { token: admin.token, body: { roles: [p.role] } })],
  ['an admin setting a password', (p) => h.call('PATCH', `/v1/users/${p.user.id}`, { token: admin.token, body: { password: 'an admin-set passphrase' } })],
  [
    'a password change in another session',
    async (p) => {
      const other = await signIn(h, p.user);
      const res = await h.call('POST', '/v1/me/password', { token: other.accessToken, body: { currentPassword: p.user.password, newPassword: 'a brand new passphrase' } });
      expect(res.status).toBe(204);
    },
  ],
];

describe('a revoked session or a gone account: 401 on every route, at once', () => {
  it.each(sessionGone)('after %s', async (_kind, revoke) => {
    const p = await powerUser();
    const before = await everyRoute(p.token, { logoutAll: false });
    expect(Object.values(before).filter((s) => s === 401 || s === 403)).toEqual([]);
    const started = Date.now();
    await revoke(p);
    const after = await everyRoute(p.token);
    expectAll(after, 401);
    // Well within the token's lifetime: the token itself is still valid.
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('a dead token changes nothing', async () => {
    const p = await powerUser();
    const victim = await createUser(h, { name: 'Untouched' });
    await h.call('POST', '/v1/auth/logout-all', { token: p.token });
    expectProblem(await h.call('PATCH', `/v1/users/${victim.id}`, { token: p.token, body: { name: 'Changed' } }), 401);
    expectProblem(await h.call('DELETE', `/v1/users/${victim.id}`, { token: p.token }), 401);
    expectProblem(await h.call('POST', '/v1/roles', { token: p.token, body: { name: 'made-by-a-ghost' } }), 401);
    expect(await h.query('select name from users where id = $1', [victim.id])).toEqual([{ name: 'Untouched' }]);
    expect(await h.query(`select 1 from roles where name = 'made-by-a-ghost'`)).toEqual([]);
  });
});

describe('a lost permission: 403 where it is needed, the session lives on', () => {
  const needs = Object.entries(GUARDED).filter(([, r]) => r.permission !== null).map(([route]) => route);
  const live = Object.entries(GUARDED).filter(([, r]) => r.permission === null).map(([route]) => route);

  it.each<[string, (p: { role: string }) => Promise<unknown>]>([
    ['its permissions are taken from the custom role', (p) => h.call('PATCH', `/v1/roles/${p.role}`, { token: admin.token, body: { permissions: [] } })],
    ['the custom role is deleted', (p) => h.call('DELETE', `/v1/roles/${p.role}`, { token: admin.token })],
  ])('after %s', async (_kind, demote) => {
    const p = await powerUser();
    await demote(p);
    const after = await everyRoute(p.token);
    expect(needs.filter((r) => after[r] !== 403)).toEqual([]);
    // Routes that need only a live session still answer (logout-all comes last).
    expect(live.filter((r) => after[r] === 401 || after[r] === 403)).toEqual([]);
  });

  it('GET /v1/me reports the effective permissions now', async () => {
    const p = await powerUser();
    expect((await h.call('GET', '/v1/me', { token: p.token })).body.permissions).toEqual([...PERMISSION_NAMES]);
    await h.call('PATCH', `/v1/roles/${p.role}`, { token: admin.token, body: { permissions: ['stats:read'] } });
    expect((await h.call('GET', '/v1/me', { token: p.token })).body.permissions).toEqual(['stats:read']);
  });
});
