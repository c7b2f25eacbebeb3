/**
 * One table of every authenticated route and the permission it needs (contract §8), checked for 401 without a valid
 * token, 403 for a caller holding every permission but that one, and admission for a caller holding only that one
 * through a custom role. Each answer is decided by a statement that carried the caller check. The table is compared
 * with the router, so a new route cannot skip this suite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { app } from '../src/app';
import { PERMISSION_NAMES, type Permission } from '../src/auth/permissions';
import { GUARDED } from './routes';
import { budgets, PUBLIC_ROUTES } from './budgets';
import { expectProblem } from './expect';
import { createHarness, createUser, signIn, type Harness } from './harness';

let h: Harness;
/** A signed-in caller holding exactly one permission (through a custom role), and one holding all but it. */
const only: Partial<Record<Permission, { id: number; token: string }>> = {};
const allBut: Partial<Record<Permission, { id: number; token: string }>> = {};
let nobody: { id: number; token: string };
let nobodyUser: { email: string; password: string };
/** A fresh session of the caller without permissions (logout-all, tested here, ends the earlier ones). */
const fresh = async () => (await signIn(h, nobodyUser)).accessToken;
let target: number;

async function holder(permissions: Permission[], tag: string, keep?: (user: { email: string; password: string }) => void) {
  const role = `only-${tag}-${crypto.randomUUID().slice(0, 8)}`;
  await h.query(
    `with r as (insert into roles (name) values ($1) returning id)
     insert into role_permissions (role_id, permission) select r.id, unnest($2::text[]) from r`,
    [role, permissions],
  );
  const user = await createUser(h, { roles: [role] });
  keep?.(user);
  return { id: user.id, token: (await signIn(h, user)).accessToken };
}

beforeAll(async () => {
  h = await createHarness();
  for (const p of PERMISSION_NAMES) {
    only[p] = await holder([p], p.replace(':', '-'));
    allBut[p] = await holder(PERMISSION_NAMES.filter((q) => q !== p), `not-${p.replace(':', '-')}`);
  }
  nobody = await holder([], 'none', (u) => (nobodyUser = u));
  target = (await createUser(h, { roles: ['viewer'] })).id;
});
afterAll(() => h.drop());

/** A concrete path: another user's id, a real role, a well-formed session id. */
const concrete = (path: string, id = target, role = 'viewer') =>
  path.replace(':id', path.startsWith('/v1/me/sessions') ? crypto.randomUUID() : String(id)).replace(':role', role);

const entries = Object.entries(GUARDED).map(([route, spec]) => {
  const [method, path] = route.split(' ') as [string, string];
  return { route, method, path, ...spec };
});

describe('the table', () => {
  it('lists exactly the authenticated routes the router serves', () => {
    const served = app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path}`);
    expect([...new Set(served)].filter((r) => !PUBLIC_ROUTES.has(r)).sort()).toEqual(Object.keys(GUARDED).sort());
  });

  it('and the statement budgets name every route the router serves', () => {
    const served = new Set(app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path}`));
    expect([...served].sort()).toEqual(Object.keys(budgets).sort());
  });
});

describe.each(entries)('$route', ({ method, path, permission, body }) => {
  it('401 problem with WWW-Authenticate: Bearer without a valid token, before touching the database', async () => {
    for (const headers of <Record<string, string>[]>[{}, { authorization: 'Bearer not.a.jwt' }, { authorization: `Basic ${btoa('a:b')}` }, { authorization: only['users:read']!.token }]) {
      const res = await h.call(method, concrete(path), { body, headers });
      expectProblem(res, 401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(res.statements).toBe(0);
    }
  });

  if (permission) {
    it(`403 for a caller holding every permission but ${permission}, decided by one guarded statement, before validation`, async () => {
      const caller = allBut[permission]!;
      const res = await h.call(method, concrete(path), { token: caller.token, body });
      expectProblem(res, 403);
      expect(res.body.detail).toContain(permission);
      expect(res.statements).toBe(1);
      expect(res.guarded).toBe(1);
      // An invalid body does not turn the 403 into a 422.
      if (body !== undefined) expectProblem(await h.call(method, concrete(path), { token: caller.token, body: { junk: true } }), 403);
      expectProblem(await h.call(method, concrete(path), { token: await fresh(), body }), 403);
    });
  }

  it(permission ? `admits a caller holding only ${permission}` : 'admits any caller with a live session', async () => {
    const token = permission ? only[permission]!.token : await fresh();
    // Aimed at things that do not exist (or an invalid body), so admitted calls change nothing. (Each route's happy
    // path is checked for the same in test/budgets.test.ts.)
    const send = body === undefined ? undefined : { junk: true };
    const res = await h.call(method, concrete(path, 2147483647, 'ghost-role'), { token, body: send });
    expect([401, 403], res.text).not.toContain(res.status);
    expect(res.status).toBeLessThan(500);
    expect(res.statements).toBeGreaterThan(0);
    expect(res.guarded, 'every statement carried the caller check').toBe(res.statements);
  });
});

describe('reading one’s own user', () => {
  it('needs no permission', async () => {
    const token = await fresh();
    const res = await h.call('GET', `/v1/users/${nobody.id}`, { token });
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(nobody.id);
    expectProblem(await h.call('GET', `/v1/users/${target}`, { token }), 403);
  });

  it('but writing it does', async () => {
    const token = await fresh();
    expectProblem(await h.call('PATCH', `/v1/users/${nobody.id}`, { token, body: { name: 'Me' } }), 403);
    expectProblem(await h.call('DELETE', `/v1/users/${nobody.id}/roles/viewer`, { token }), 403);
    expectProblem(await h.call('PUT', `/v1/users/${nobody.id}/roles/admin`, { token }), 403);
  });
});
