import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/env';
import { encodeCursor } from '../src/lib/cursor';
import { expectWithinBudget } from './budgets';
import { expectInvalid, expectProblem } from './expect';
import { createHarness, createUser, signIn, userWithToken, type Harness } from './harness';

let h: Harness;
let admin: Awaited<ReturnType<typeof userWithToken>>;
let analyst: Awaited<ReturnType<typeof userWithToken>>;

beforeAll(async () => {
  h = await createHarness();
  [admin, analyst] = await Promise.all([userWithToken(h, ['admin']), userWithToken(h, ['analyst'])]);
});
afterAll(() => h.drop());

const ROLE_KEYS = ['createdAt', 'description', 'id', 'name', 'permissions', 'userCount'];
let counter = 0;
/** A valid role name no other test uses. */
const roleName = (tag = 'role') => `${tag}-${Date.now().toString(36)}-${counter++}`;

async function createRole(name = roleName(), description?: string | null) {
  const res = await h.call('POST', '/v1/roles', { token: admin.token, body: description === undefined ? { name } : { name, description } });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: number; name: string };
}

const roleAudit = (action: string, id: number) =>
  h.query<{ actor_id: number; details: any }>(
    `select actor_id, details from audit_events where action = $1 and target_type = 'role' and target_id = $2 order by id`,
    [action, String(id)],
  );

describe('GET /v1/roles', () => {
  it('lists every role by name with user counts, to admins and analysts', async () => {
    const extra = await createRole(roleName('aaa'));
    await createUser(h, { roles: [extra.name, 'viewer'] });
    await createUser(h, { roles: [extra.name], disabled: true });
    const counts = await h.query<{ name: string; n: number }>(
      `select r.name, count(ur.user_id)::int as n from roles r left join users_roles ur on ur.role_id = r.id group by r.name order by r.name`,
    );
    for (const caller of [admin, analyst]) {
      const res = await h.call('GET', '/v1/roles', { token: caller.token });
      expect(res.status).toBe(200);
      expectWithinBudget('GET /v1/roles', res);
      expect(Object.keys(res.body)).toEqual(['data']);
      const names = res.body.data.map((r: { name: string }) => r.name);
      expect(names).toEqual([...names].sort());
      expect(names).toEqual(expect.arrayContaining(['admin', 'analyst', 'viewer']));
      expect(res.body.data.map((r: { name: string; userCount: number }) => ({ name: r.name, n: r.userCount }))).toEqual(counts);
      expect(Object.keys(res.body.data[0]).sort()).toEqual(ROLE_KEYS);
      expect(res.body.data.find((r: { name: string }) => r.name === extra.name).userCount).toBe(2);
    }
  });
});

describe('POST /v1/roles', () => {
  it('creates a role with userCount 0 and records it', async () => {
    const name = roleName('new');
    const res = await h.call('POST', '/v1/roles', { token: admin.token, body: { name, description: 'Reads the audit trail' } });
    expect(res.status).toBe(201);
    expectWithinBudget('POST /v1/roles', res);
    expect(res.body).toMatchObject({ name, description: 'Reads the audit trail', userCount: 0 });
    expect(Object.keys(res.body).sort()).toEqual(ROLE_KEYS);
    expect(res.body.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(await roleAudit('role.create', res.body.id)).toEqual([
      { actor_id: admin.id, details: { name, description: 'Reads the audit trail', permissions: [] } },
    ]);
  });

  it('a missing or null description is null', async () => {
    expect((await createRole()).name).toBeTruthy();
    const res = await h.call('POST', '/v1/roles', { token: admin.token, body: { name: roleName(), description: null } });
    expect(res.body.description).toBeNull();
    const none = await h.call('POST', '/v1/roles', { token: admin.token, body: { name: roleName() } });
    expect(none.body.description).toBeNull();
  });

  it.each([
    ['ab', 201],
    ['a'.repeat(50), 201],
    ['z9', 201],
    ['a-b_c9', 201],
    ['a', 422],
    ['a'.repeat(51), 422],
    ['Ab', 422],
    ['aB', 422],
    ['1ab', 422],
    ['-ab', 422],
    ['_ab', 422],
    ['a b', 422],
    ['a.b', 422],
    ['é-role', 422],
    ['', 422],
  ])('name %j → %i', async (name, status) => {
    const res = await h.call('POST', '/v1/roles', { token: admin.token, body: { name } });
    expect(res.status, res.text).toBe(status);
    if (status === 422) expectInvalid(res, 'name');
    else expect(res.body.name).toBe(name);
  });

  it('409 on a taken name (built-in or not), with no audit row', async () => {
    const role = await createRole();
    const before = await h.query('select count(*) from audit_events');
    for (const name of [role.name, 'admin', 'viewer']) {
      const res = await h.call('POST', '/v1/roles', { token: admin.token, body: { name } });
      expectProblem(res, 409);
      expectWithinBudget('POST /v1/roles', res);
    }
    expect(await h.query('select count(*) from audit_events')).toEqual(before);
  });

  it.each([
    ['description', { description: 'x'.repeat(501) }],
    ['description', { description: 5 }],
    ['name', { name: 5 }],
    ['id', { id: 9 }],
    ['userCount', { userCount: 9 }],
  ])('422 at %s for %j', async (path, patch) => {
    expectInvalid(await h.call('POST', '/v1/roles', { token: admin.token, body: { name: roleName(), ...patch } }), path);
  });

  it('takes a description of 500 characters (code points)', async () => {
    const res = await h.call('POST', '/v1/roles', { token: admin.token, body: { name: roleName(), description: '✓'.repeat(500) } });
    expect(res.status).toBe(201);
  });
});

describe('GET /v1/roles/:role', () => {
  it('answers one role with its user count', async () => {
    const role = await createRole();
    await createUser(h, { roles: [role.name] });
    for (const caller of [admin, analyst]) {
      const res = await h.call('GET', `/v1/roles/${role.name}`, { token: caller.token });
      expect(res.status).toBe(200);
      expectWithinBudget('GET /v1/roles/:role', res);
      expect(res.body).toMatchObject({ id: role.id, name: role.name, userCount: 1 });
    }
    const builtIn = await h.call('GET', '/v1/roles/admin', { token: admin.token });
    expect(builtIn.body).toMatchObject({ name: 'admin', description: expect.any(String) });
  });

  it.each(['ghost-role', 'Admin', 'a', 'x'.repeat(51), '%20', '1abc'])('404 for %s', async (name) => {
    const res = await h.call('GET', `/v1/roles/${name}`, { token: admin.token });
    expectProblem(res, 404);
    expectWithinBudget('GET /v1/roles/:role', res);
  });
});

describe('PATCH /v1/roles/:role', () => {
  it('changes the description only', async () => {
    const role = await createRole(roleName(), 'before');
    const res = await h.call('PATCH', `/v1/roles/${role.name}`, { token: admin.token, body: { description: 'after' } });
    expect(res.status).toBe(200);
    expectWithinBudget('PATCH /v1/roles/:role', res);
    expect(res.body).toMatchObject({ id: role.id, name: role.name, description: 'after', userCount: 0 });
    const cleared = await h.call('PATCH', `/v1/roles/${role.name}`, { token: admin.token, body: { description: null } });
    expect(cleared.body.description).toBeNull();
    expect((await roleAudit('role.update', role.id)).map((r) => r.details)).toEqual([
      { name: role.name, fields: ['description'], description: 'after', permissions: [] },
      { name: role.name, fields: ['description'], description: null, permissions: [] },
    ]);
    // The same description again changes nothing and records nothing.
    await h.call('PATCH', `/v1/roles/${role.name}`, { token: admin.token, body: { description: null } });
    expect(await roleAudit('role.update', role.id)).toHaveLength(2);
  });

  it('describes a built-in role', async () => {
    const res = await h.call('PATCH', '/v1/roles/analyst', { token: admin.token, body: { description: 'Reads figures' } });
    expect(res.body).toMatchObject({ name: 'analyst', description: 'Reads figures' });
  });

  it.each([
    ['name', { name: 'renamed-role' }],
    ['name', { name: 'renamed-role', description: 'x' }],
    ['description', {}],
    ['description', { description: 'x'.repeat(501) }],
    ['description', { description: ['x'] }],
  ])('422 at %s for %j, and nothing changes', async (path, body) => {
    const role = await createRole(roleName(), 'kept');
    expectInvalid(await h.call('PATCH', `/v1/roles/${role.name}`, { token: admin.token, body }), path);
    expect((await h.call('GET', `/v1/roles/${role.name}`, { token: admin.token })).body).toMatchObject({ name: role.name, description: 'kept' });
  });

  it('404 for an unknown role', async () => {
    const res = await h.call('PATCH', '/v1/roles/ghost-role', { token: admin.token, body: { description: 'x' } });
    expectProblem(res, 404);
    expectWithinBudget('PATCH /v1/roles/:role', res);
  });
});

describe('DELETE /v1/roles/:role', () => {
  it.each(['admin', 'analyst', 'viewer'])('409 for the built-in %s', async (name) => {
    const res = await h.call('DELETE', `/v1/roles/${name}`, { token: admin.token });
    expectProblem(res, 409);
    // Only the caller check ran.
    expect(res.statements).toBe(1);
    expect(res.guarded).toBe(1);
    expect(await h.query('select 1 from roles where name = $1', [name])).toHaveLength(1);
  });

  it('deletes a role with its assignments and records it; its holders keep their sessions (contract §8)', async () => {
    const role = await createRole();
    const holder = await createUser(h, { roles: [role.name, 'viewer'] });
    const bystander = await createUser(h, { roles: ['viewer'] });
    const [holderSession, bystanderSession] = await Promise.all([signIn(h, holder), signIn(h, bystander)]);
    const res = await h.call('DELETE', `/v1/roles/${role.name}`, { token: admin.token });
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expectWithinBudget('DELETE /v1/roles/:role', res);
    expect(await h.query('select 1 from users_roles where role_id = $1', [role.id])).toEqual([]);
    expect((await h.call('GET', `/v1/users/${holder.id}`, { token: admin.token })).body.roles).toEqual(['viewer']);
    expect((await h.call('POST', '/v1/auth/refresh', { body: { refreshToken: holderSession.refreshToken } })).status).toBe(200);
    expect((await h.call('POST', '/v1/auth/refresh', { body: { refreshToken: bystanderSession.refreshToken } })).status).toBe(200);
    expect(await roleAudit('role.delete', role.id)).toEqual([{ actor_id: admin.id, details: { name: role.name, users: 1 } }]);
    expectProblem(await h.call('GET', `/v1/roles/${role.name}`, { token: admin.token }), 404);
    const again = await h.call('DELETE', `/v1/roles/${role.name}`, { token: admin.token });
    expectProblem(again, 404);
    expectWithinBudget('DELETE /v1/roles/:role', again);
  });

  it('a deleted role’s name can be used again', async () => {
    const role = await createRole();
    await h.call('DELETE', `/v1/roles/${role.name}`, { token: admin.token });
    const res = await h.call('POST', '/v1/roles', { token: admin.token, body: { name: role.name } });
    expect(res.status).toBe(201);
    expect(res.body.userCount).toBe(0);
  });

  it('404 for a name no role can have', async () => {
    expectProblem(await h.call('DELETE', '/v1/roles/NOPE', { token: admin.token }), 404);
  });
});

describe('GET /v1/roles/:role/users', () => {
  let role: { id: number; name: string };
  let holders: number[];

  beforeAll(async () => {
    role = await createRole(roleName('team'));
    const made = await Promise.all(Array.from({ length: 27 }, (_, i) => createUser(h, { roles: [role.name], disabled: i % 4 === 0, name: `Member ${i}` })));
    holders = made.map((u) => u.id).sort((a, b) => a - b);
    await createUser(h, { roles: ['viewer'] });
  });

  async function walk(limit: number, caller = admin) {
    const ids: number[] = [];
    let cursor: string | null = null;
    do {
      const res = await h.call('GET', `/v1/roles/${role.name}/users?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: caller.token });
      expect(res.status, res.text).toBe(200);
      expectWithinBudget('GET /v1/roles/:role/users', res);
      for (const u of res.body.data) expect(u.roles).toContain(role.name);
      ids.push(...res.body.data.map((u: { id: number }) => u.id));
      cursor = res.body.nextCursor;
      if (cursor) expect(res.body.data).toHaveLength(limit);
    } while (cursor);
    return ids;
  }

  it('walks every holder (disabled ones included) by id, with no duplicate and no gap', async () => {
    expect(await walk(5)).toEqual(holders);
    expect(await walk(27)).toEqual(holders);
    expect(await walk(100, analyst)).toEqual(holders);
  });

  it('defaults to 20 per page with full User objects', async () => {
    const res = await h.call('GET', `/v1/roles/${role.name}/users`, { token: admin.token });
    expect(res.body.data).toHaveLength(20);
    expect(res.body.data[0]).toMatchObject({ id: holders[0], roles: [role.name] });
    expect(res.body.data.some((u: { disabled: boolean }) => u.disabled)).toBe(true);
    expect(res.body.nextCursor).toEqual(expect.any(String));
  });

  it('a roles:read holder without users:read sees only id and name, decided on the permissions held now', async () => {
    const reader = await h.call('POST', '/v1/roles', { token: admin.token, body: { name: roleName('reader'), permissions: ['roles:read', 'users:read'] } });
    expect(reader.status, reader.text).toBe(201);
    const caller = await userWithToken(h, [reader.body.name]);
    const page = () => h.call('GET', `/v1/roles/${role.name}/users?limit=3`, { token: caller.token });

    const full = await page();
    expect(full.status).toBe(200);
    expect(Object.keys(full.body.data[0]).sort()).toEqual(
      ['createdAt', 'disabled', 'email', 'emailVerified', 'id', 'invited', 'lastLoginAt', 'mfaEnabled', 'name', 'roles'].sort(),
    );

    // users:read taken from the role: the same token, the next request already gets names only.
    const patched = await h.call('PATCH', `/v1/roles/${reader.body.name}`, { token: admin.token, body: { permissions: ['roles:read'] } });
    expect(patched.status, patched.text).toBe(200);
    const names = await page();
    expect(names.status).toBe(200);
    expectWithinBudget('GET /v1/roles/:role/users', names);
    expect(names.body.data).toEqual(holders.slice(0, 3).map((id, i) => ({ id, name: full.body.data[i].name })));
    expect(names.text).not.toContain('@');
    // The cursor still walks the same holders.
    const next = await h.call('GET', `/v1/roles/${role.name}/users?limit=3&cursor=${encodeURIComponent(names.body.nextCursor)}`, { token: caller.token });
    expect(next.body.data).toEqual(holders.slice(3, 6).map((id) => ({ id, name: expect.stringMatching(/^Member /) })));
  });

  it('an existing role with no holders is an empty page', async () => {
    const empty = await createRole();
    const res = await h.call('GET', `/v1/roles/${empty.name}/users`, { token: admin.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: [], nextCursor: null });
    expectWithinBudget('GET /v1/roles/:role/users', res);
  });

  it('404 for an unknown role', async () => {
    const res = await h.call('GET', '/v1/roles/ghost-role/users', { token: admin.token });
    expectProblem(res, 404);
    expectWithinBudget('GET /v1/roles/:role/users', res);
    expectProblem(await h.call('GET', '/v1/roles/Ghost/users', { token: admin.token }), 404);
  });

  it.each(['limit=0', 'limit=101', 'limit=x'])('422 for ?%s', async (query) => {
    expectInvalid(await h.call('GET', `/v1/roles/${role.name}/users?${query}`, { token: admin.token }), 'limit');
  });

  it('400 for a tampered cursor or one from another list or role', async () => {
    const page = await h.call('GET', `/v1/roles/${role.name}/users?limit=2`, { token: admin.token });
    const cursor: string = page.body.nextCursor;
    const config = loadConfig(h.env);
    const users = await h.call('GET', '/v1/users?limit=1', { token: admin.token });
    for (const bad of [
      `${cursor}x`,
      cursor.replace('.', '.A'),
      users.body.nextCursor,
      await encodeCursor(config, 'role-users:viewer', 'id', [], 1),
      await encodeCursor(config, `role-users:${role.name}`, 'name', [], 1),
    ]) {
      expectProblem(await h.call('GET', `/v1/roles/${role.name}/users?cursor=${encodeURIComponent(bad)}`, { token: admin.token }), 400);
    }
    expectProblem(await h.call('GET', `/v1/roles/viewer/users?cursor=${encodeURIComponent(cursor)}`, { token: admin.token }), 400);
  });
});

describe('role user counts (role_user_counts, kept by triggers)', () => {
  it('follow every way assignments change, and equal a count of users_roles', async () => {
    const h2 = await (await import('./harness')).createHarness();
    try {
      const { createUser: make, userWithToken: signedIn } = await import('./harness');
      const admin = await signedIn(h2, ['admin']);
      await h2.query(`insert into roles (name) values ('counted')`);
      const people = [];
      for (let i = 0; i < 20; i++) people.push(await make(h2, { roles: i % 2 ? ['viewer', 'counted'] : ['viewer'] }));
      const counts = async () => {
        const res = await h2.call('GET', '/v1/roles', { token: admin.token });
        return Object.fromEntries(res.body.data.map((r: { name: string; userCount: number }) => [r.name, r.userCount]));
      };
      const truth = async () =>
        Object.fromEntries(
          (await h2.query<{ name: string; n: number }>(
            `select r.name, count(ur.user_id)::int as n from roles r left join users_roles ur on ur.role_id = r.id group by r.name`,
          )).map((r) => [r.name, r.n]),
        );
      expect(await counts()).toEqual(await truth());
      expect((await counts()).counted).toBe(10);
      await h2.call('PUT', `/v1/users/${people[0]!.id}/roles/counted`, { token: admin.token });
      await h2.call('DELETE', `/v1/users/${people[1]!.id}/roles/counted`, { token: admin.token });
      await h2.call('PUT', `/v1/users/${people[2]!.id}/roles`, { token: admin.token, body: { roles: ['analyst', 'counted'] } });
      await h2.call('DELETE', `/v1/users/${people[3]!.id}`, { token: admin.token });
      // 30 concurrent sign-ups all add a viewer assignment: none is lost, none waits on one counter row.
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          h2.call('POST', '/v1/auth/register', { body: { name: 'N', email: `counted-${i}-${Date.now()}@example.com`, password: 'correct horse battery' } }),
        ),
      );
      expect(await counts()).toEqual(await truth());
      expect((await h2.call('GET', '/v1/roles/counted', { token: admin.token })).body.userCount).toBe((await truth()).counted);
      expect((await h2.call('DELETE', '/v1/roles/counted', { token: admin.token })).status).toBe(204);
      expect(await counts()).toEqual(await truth());
      const [{ n }] = (await h2.query<{ n: number }>(`select count(*)::int as n from role_user_counts where role_id not in (select id from roles)`)) as [{ n: number }];
      expect(n).toBe(0);
    } finally {
      await h2.drop();
    }
  });
});
