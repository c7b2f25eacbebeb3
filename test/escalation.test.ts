/**
 * Contract §8: permissions from roles, custom roles, and no escalation — nobody gives out, defines or takes away
 * more than they hold; each refusal is a 403 that changes nothing (database fingerprint compared).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSION_NAMES, PERMISSIONS } from '../src/auth/permissions';
import { expectInvalid, expectProblem } from './expect';
import { callerWith as sharedCallerWith, roleName } from './custom-roles';
import { createHarness, createUser, signIn, uniqueEmail, type Harness } from './harness';

let h: Harness;
let admin: string;
beforeAll(async () => {
  h = await createHarness();
  admin = (await signIn(h, await createUser(h, { roles: ['admin'] }))).accessToken;
});
afterAll(() => h.drop());

const callerWith = (permissions: string[], extra: string[] = []) => sharedCallerWith(h, permissions, extra);

async function fingerprint() {
  const [row] = await h.query(`select
    (select count(*) || ':' || coalesce(sum(hashtext(u::text)), 0) from users u) as users,
    (select count(*) || ':' || coalesce(sum(hashtext(r::text)), 0) from roles r) as roles,
    (select count(*) || ':' || coalesce(sum(hashtext(x::text)), 0) from users_roles x) as users_roles,
    (select count(*) || ':' || coalesce(sum(hashtext(p::text)), 0) from role_permissions p) as grants,
    (select count(*) || ':' || coalesce(sum(hashtext(s::text)), 0) from sessions s) as sessions,
    (select count(*) from audit_events) as audit_events`);
  return row;
}

/** 403, and the database is exactly as before. */
async function refused(call: () => ReturnType<Harness['call']>) {
  const before = await fingerprint();
  const res = await call();
  expectProblem(res, 403);
  expect(res.guarded).toBe(res.statements);
  expect(await fingerprint()).toEqual(before);
}

describe('the catalog and the built-ins', () => {
  it('GET /v1/permissions lists the catalog, ordered, for any signed-in caller', async () => {
    const viewer = await callerWith([]);
    const res = await h.call('GET', '/v1/permissions', { token: viewer.token });
    expect(res.status).toBe(200);
    expect(res.statements).toBe(1);
    expect(res.body).toEqual({ data: PERMISSION_NAMES.map((name) => ({ name, description: PERMISSIONS[name] })) });
    // The table the grants reference holds the same catalog.
    expect(await h.query('select name, description from permissions order by name')).toEqual(res.body.data);
    expectProblem(await h.call('GET', '/v1/permissions'), 401);
  });

  it('built-in roles carry the contract’s mappings, sorted', async () => {
    const res = await h.call('GET', '/v1/roles', { token: admin });
    const of = (name: string) => res.body.data.find((r: { name: string }) => r.name === name).permissions;
    expect(of('admin')).toEqual([...PERMISSION_NAMES]);
    expect(of('analyst')).toEqual(['dashboards:write', 'events:read', 'roles:read', 'stats:read', 'users:read']);
    expect(of('viewer')).toEqual([]);
  });

  it('a built-in role’s permissions cannot change (409), its description can', async () => {
    for (const name of ['admin', 'analyst', 'viewer']) {
      const before = await fingerprint();
      expectProblem(await h.call('PATCH', `/v1/roles/${name}`, { token: admin, body: { permissions: ['stats:read'] } }), 409);
      expect(await fingerprint()).toEqual(before);
    }
    expect((await h.call('PATCH', '/v1/roles/viewer', { token: admin, body: { description: 'Default' } })).body.permissions).toEqual([]);
  });
});

describe('custom roles', () => {
  it('POST and PATCH set the permissions (sorted, duplicates ignored); GET shows them', async () => {
    const name = roleName();
    const created = await h.call('POST', '/v1/roles', { token: admin, body: { name, permissions: ['users:read', 'audit:read', 'users:read'] } });
    expect(created.status).toBe(201);
    expect(created.body.permissions).toEqual(['audit:read', 'users:read']);
    const patched = await h.call('PATCH', `/v1/roles/${name}`, { token: admin, body: { permissions: ['stats:read'] } });
    expect(patched.status).toBe(200);
    expect(patched.body.permissions).toEqual(['stats:read']);
    expect((await h.call('GET', `/v1/roles/${name}`, { token: admin })).body.permissions).toEqual(['stats:read']);
    const audit = await h.query<{ details: any }>(`select details from audit_events where action = 'role.update' and target_id = $1`, [String(created.body.id)]);
    expect(audit.map((a) => a.details)).toEqual([{ name, fields: ['permissions'], description: null, permissions: ['stats:read'] }]);
  });

  it.each([['POST'], ['PATCH']])('%s: an unknown permission is a 422 at permissions, and nothing changes', async (method) => {
    const name = roleName();
    if (method === 'PATCH') await h.call('POST', '/v1/roles', { token: admin, body: { name } });
    const before = await fingerprint();
    const res = method === 'POST'
      ? await h.call('POST', '/v1/roles', { token: admin, body: { name: roleName(), permissions: ['stats:read', 'stats:write'] } })
      : await h.call('PATCH', `/v1/roles/${name}`, { token: admin, body: { permissions: ['users:read', 'everything'] } });
    expectInvalid(res, 'permissions');
    expect(await fingerprint()).toEqual(before);
  });

  it('a role with stats:read reads the figures and nothing else', async () => {
    const c = await callerWith(['stats:read']);
    expect((await h.call('GET', '/v1/stats/overview', { token: c.token })).status).toBe(200);
    expect((await h.call('GET', '/v1/me', { token: c.token })).body.permissions).toEqual(['stats:read']);
    for (const [method, path] of [
      ['GET', '/v1/users'],
      ['GET', `/v1/users/${c.id + 1000}`],
      ['GET', '/v1/roles'],
      ['GET', '/v1/roles/viewer/users'],
      ['GET', '/v1/audit'],
      ['DELETE', '/v1/roles/ghost-role'],
      ['PUT', `/v1/users/${c.id}/roles/viewer`],
      ['DELETE', `/v1/users/${c.id}/sessions`],
    ] as const) {
      expectProblem(await h.call(method, path, { token: c.token }), 403);
    }
  });
});

describe('no escalation', () => {
  it('roles:write alone cannot create or widen a role beyond its own permissions', async () => {
    const c = await callerWith(['roles:write']);
    await refused(() => h.call('POST', '/v1/roles', { token: c.token, body: { name: roleName('grab'), permissions: ['users:write'] } }));
    const mine = roleName('mine');
    const created = await h.call('POST', '/v1/roles', { token: c.token, body: { name: mine, permissions: ['roles:write'] } });
    expect(created.status).toBe(201);
    await refused(() => h.call('PATCH', `/v1/roles/${mine}`, { token: c.token, body: { permissions: ['roles:write', 'audit:read'] } }));
    // Narrowing, or a description, is fine.
    expect((await h.call('PATCH', `/v1/roles/${mine}`, { token: c.token, body: { permissions: [] } })).status).toBe(200);
  });

  it('assigning a role needs every permission it carries: single, replace and POST /v1/users', async () => {
    const c = await callerWith(['roles:write', 'users:write', 'stats:read']);
    const victim = await createUser(h);
    const strong = roleName('strong');
    await h.call('POST', '/v1/roles', { token: admin, body: { name: strong, permissions: ['stats:read', 'audit:read'] } });
    await refused(() => h.call('PUT', `/v1/users/${victim.id}/roles/${strong}`, { token: c.token }));
    await refused(() => h.call('PUT', `/v1/users/${victim.id}/roles`, { token: c.token, body: { roles: ['viewer', strong] } }));
    await refused(() => h.call('PUT', `/v1/users/${c.id}/roles/analyst`, { token: c.token }));
    await refused(() =>
      h.call('POST', '/v1/users', { token: c.token, body: { name: 'N', email: uniqueEmail(), password: 'long enough password', roles: [strong] } }),
    );
    // A role within the caller's permissions may be given.
    const weak = roleName('weak');
    await h.call('POST', '/v1/roles', { token: admin, body: { name: weak, permissions: ['stats:read'] } });
    expect((await h.call('PUT', `/v1/users/${victim.id}/roles/${weak}`, { token: c.token })).status).toBe(204);
    expect((await h.call('POST', '/v1/users', { token: c.token, body: { name: 'N', email: uniqueEmail(), password: 'long enough password', roles: [weak, 'viewer'] } })).status).toBe(201);
  });

  it('granting or taking admin needs the role admin, not just its six permissions', async () => {
    const c = await callerWith([...PERMISSION_NAMES]);
    const other = await createUser(h, { roles: ['admin'] });
    const plain = await createUser(h);
    await refused(() => h.call('PUT', `/v1/users/${plain.id}/roles/admin`, { token: c.token }));
    await refused(() => h.call('DELETE', `/v1/users/${other.id}/roles/admin`, { token: c.token }));
    await refused(() => h.call('PUT', `/v1/users/${plain.id}/roles`, { token: c.token, body: { roles: ['admin'] } }));
    await refused(() => h.call('PUT', `/v1/users/${other.id}/roles`, { token: c.token, body: { roles: ['viewer'] } }));
    await refused(() =>
      h.call('POST', '/v1/users', { token: c.token, body: { name: 'N', email: uniqueEmail(), password: 'long enough password', roles: ['admin'] } }),
    );
    // Its own admin grant too: idempotent calls are judged like real ones.
    await refused(() => h.call('DELETE', `/v1/users/${plain.id}/roles/admin`, { token: c.token }));
    // Keeping admin in a replaced set is neither granting nor taking it.
    expect((await h.call('PUT', `/v1/users/${other.id}/roles`, { token: c.token, body: { roles: ['admin', 'analyst'] } })).status).toBe(200);
    // An admin may.
    expect((await h.call('PUT', `/v1/users/${plain.id}/roles/admin`, { token: admin })).status).toBe(204);
  });

  it('a demoted admin cannot re-enable, re-grant or recreate power with an old token', async () => {
    const a = await createUser(h, { roles: ['admin'] });
    const token = (await signIn(h, a)).accessToken;
    expect((await h.call('DELETE', `/v1/users/${a.id}/roles/admin`, { token: admin })).status).toBe(204);
    const before = await fingerprint();
    for (const res of [
      await h.call('PUT', `/v1/users/${a.id}/roles/admin`, { token }),
      await h.call('POST', '/v1/users', { token, body: { name: 'N', email: uniqueEmail(), password: 'long enough password', roles: ['admin'] } }),
      await h.call('POST', '/v1/roles', { token, body: { name: roleName(), permissions: [...PERMISSION_NAMES] } }),
      await h.call('PATCH', `/v1/users/${a.id}`, { token, body: { disabled: false } }),
    ]) {
      expectProblem(res, 401);
    }
    expect(await fingerprint()).toEqual(before);
  });
});
