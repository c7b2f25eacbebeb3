/**
 * One table of every guarded route and the roles it admits, checked for 401 without a valid token and 403 for each
 * role it does not admit. The table is compared with the router, so a new route cannot skip this suite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { app } from '../src/app';
import { budgets } from './budgets';
import { expectProblem } from './expect';
import { createHarness, createUser, userWithToken, type Harness } from './harness';

type Role = 'admin' | 'analyst' | 'viewer';
const ANY: Role[] = ['admin', 'analyst', 'viewer'];
const READERS: Role[] = ['admin', 'analyst'];
const ADMIN: Role[] = ['admin'];

/** route → roles admitted, and a body that would be valid (so a 403 is not a validation failure in disguise). */
const GUARDED: Record<string, { roles: Role[]; body?: unknown }> = {
  'POST /v1/auth/logout-all': { roles: ANY },
  'GET /v1/me': { roles: ANY },
  'PATCH /v1/me': { roles: ANY, body: { name: 'Me' } },
  'POST /v1/me/password': { roles: ANY, body: { currentPassword: 'x', newPassword: 'y'.repeat(12) } },
  'GET /v1/me/sessions': { roles: ANY },
  'DELETE /v1/me/sessions/:id': { roles: ANY },
  'GET /v1/users': { roles: READERS },
  'POST /v1/users': { roles: ADMIN, body: { name: 'N', email: 'n@example.com', password: 'p'.repeat(12) } },
  'GET /v1/users/:id': { roles: READERS },
  'PATCH /v1/users/:id': { roles: ADMIN, body: { name: 'N' } },
  'DELETE /v1/users/:id': { roles: ADMIN },
  'PUT /v1/users/:id/roles': { roles: ADMIN, body: { roles: ['viewer'] } },
  'PUT /v1/users/:id/roles/:role': { roles: ADMIN },
  'DELETE /v1/users/:id/roles/:role': { roles: ADMIN },
  'DELETE /v1/users/:id/sessions': { roles: ADMIN },
  'GET /v1/roles': { roles: READERS },
  'POST /v1/roles': { roles: ADMIN, body: { name: 'new-role' } },
  'GET /v1/roles/:role': { roles: READERS },
  'PATCH /v1/roles/:role': { roles: ADMIN, body: { description: 'd' } },
  'DELETE /v1/roles/:role': { roles: ADMIN },
  'GET /v1/roles/:role/users': { roles: READERS },
  'GET /v1/stats/overview': { roles: READERS },
  'GET /v1/stats/active-users': { roles: READERS },
  'GET /v1/stats/retention': { roles: READERS },
  'GET /v1/users/export': { roles: READERS },
  'GET /v1/audit/export': { roles: ADMIN },
  'GET /v1/audit': { roles: ADMIN },
};

let h: Harness;
let tokens: Record<Role, string>;
let target: number;
const ids: Partial<Record<Role, number>> = {};

beforeAll(async () => {
  h = await createHarness();
  const [admin, analyst, viewer, other] = await Promise.all([
    userWithToken(h, ['admin']),
    userWithToken(h, ['analyst']),
    userWithToken(h, ['viewer']),
    createUser(h, { roles: ['viewer'] }),
  ]);
  tokens = { admin: admin.token, analyst: analyst.token, viewer: viewer.token };
  Object.assign(ids, { admin: admin.id, analyst: analyst.id, viewer: viewer.id });
  target = other.id;
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
  it('lists exactly the guarded routes the router serves', () => {
    const served = new Set(
      app.routes
        .filter((r) => r.method !== 'ALL' && r.path.startsWith('/v1/') && (!r.path.startsWith('/v1/auth/') || r.path === '/v1/auth/logout-all'))
        .map((r) => `${r.method} ${r.path}`),
    );
    expect([...served].sort()).toEqual(Object.keys(GUARDED).sort());
  });
});

describe('the statement budgets', () => {
  it('name every route the router serves', () => {
    const served = new Set(app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path}`));
    expect([...served].sort()).toEqual(Object.keys(budgets).sort());
  });
});

describe.each(entries)('$route', ({ method, path, roles, body }) => {
  it('401 problem with WWW-Authenticate: Bearer without a valid token, before touching the database', async () => {
    for (const headers of <Record<string, string>[]>[{}, { authorization: 'Bearer not.a.jwt' }, { authorization: `Basic ${btoa('a:b')}` }, { authorization: tokens.admin }]) {
      const res = await h.call(method, concrete(path), { body, headers });
      expectProblem(res, 401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(res.statements).toBe(0);
    }
  });

  const refused = ANY.filter((r) => !roles.includes(r));
  if (refused.length > 0) {
    it.each(refused)('403 for %s, before validation and before the database', async (role) => {
      const res = await h.call(method, concrete(path), { token: tokens[role], body });
      expectProblem(res, 403);
      expect(res.statements).toBe(0);
      // An invalid body does not turn the 403 into a 422.
      if (body !== undefined) expectProblem(await h.call(method, concrete(path), { token: tokens[role], body: { junk: true } }), 403);
    });
  }

  it.each(roles)('admits %s', async (role) => {
    // Aimed at things that do not exist (or an invalid body), so admitted calls change nothing.
    const res = await h.call(method, concrete(path, 2147483647, 'ghost-role'), { token: tokens[role], body: body === undefined ? undefined : { junk: true } });
    expect([401, 403]).not.toContain(res.status);
    expect(res.status).toBeLessThan(500);
  });
});

describe('reading one’s own user', () => {
  it.each(ANY)('%s may read their own id', async (role) => {
    const res = await h.call('GET', `/v1/users/${ids[role]}`, { token: tokens[role] });
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(ids[role]);
  });

  it('but not write it without admin', async () => {
    for (const role of ['analyst', 'viewer'] as const) {
      expectProblem(await h.call('PATCH', `/v1/users/${ids[role]}`, { token: tokens[role], body: { name: 'Me' } }), 403);
      expectProblem(await h.call('DELETE', `/v1/users/${ids[role]}/roles/${role}`, { token: tokens[role] }), 403);
      expectProblem(await h.call('PUT', `/v1/users/${ids[role]}/roles/admin`, { token: tokens[role] }), 403);
    }
  });
});
