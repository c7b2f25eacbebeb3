import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/env';
import { encodeCursor } from '../src/lib/cursor';
import { expectWithinBudget } from './budgets';
import { expectInvalid, expectProblem } from './expect';
import { createHarness, createUser, signIn, uniqueEmail, userWithToken, type Harness } from './harness';

type Token = Awaited<ReturnType<typeof userWithToken>>;

let h: Harness;
let admin: Token;
let analyst: Token;
let viewer: Token;

beforeAll(async () => {
  h = await createHarness();
  [admin, analyst, viewer] = await Promise.all([userWithToken(h, ['admin']), userWithToken(h, ['analyst']), userWithToken(h, ['viewer'])]);
});
afterAll(() => h.drop());

const USER_KEYS = ['createdAt', 'disabled', 'email', 'id', 'lastLoginAt', 'name', 'roles'];
const PASSWORD = 'correct horse battery';

async function audit(db: Harness, action: string, targetId: number) {
  return db.query<{ actor_id: number; details: any }>(
    `select actor_id, details from audit_events where action = $1 and target_type = 'user' and target_id = $2 order by id`,
    [action, String(targetId)],
  );
}

async function auditCount(db: Harness) {
  return Number((await db.query<{ n: string }>('select count(*) as n from audit_events'))[0]!.n);
}

const refresh = (db: Harness, refreshToken: string) => db.call('POST', '/v1/auth/refresh', { body: { refreshToken } });

/** A user with two live sessions, to check that a change revokes every one of them. */
async function userWithSessions(db: Harness, roles = ['viewer']) {
  const user = await createUser(db, { roles, password: PASSWORD });
  const first = await signIn(db, user);
  const second = await signIn(db, user);
  return { ...user, refreshTokens: [first.refreshToken, second.refreshToken] };
}

async function expectSessionsRevoked(db: Harness, refreshTokens: string[]) {
  for (const token of refreshTokens) expectProblem(await refresh(db, token), 401);
}

// Ids that cannot name a user: never a 500, always the same 404 as an unknown id.
const BAD_IDS = ['abc', '-1', '0', '1.5', '1e3', '0x10', '007', '%201', '%D9%A1', '2147483648', '9223372036854775807', '18446744073709551616', '99999999999999999999999999'];

describe('POST /v1/users', () => {
  it('creates a user holding viewer by default, with the email trimmed and lower-cased', async () => {
    const email = uniqueEmail('Create');
    const res = await h.call('POST', '/v1/users', { token: admin.token, body: { name: '  Ada Lovelace ', email: `  ${email.toUpperCase()} `, password: PASSWORD } });
    expect(res.status).toBe(201);
    expectWithinBudget('POST /v1/users', res);
    expect(Object.keys(res.body).sort()).toEqual(USER_KEYS);
    expect(res.body).toMatchObject({ name: 'Ada Lovelace', email: email.toLowerCase(), roles: ['viewer'], disabled: false, lastLoginAt: null });
    expect(res.body.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(res.text).not.toMatch(/scrypt|argon2|hashed|password/i);
    const rows = await audit(h, 'user.create', res.body.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.actor_id).toBe(admin.id);
    expect(rows[0]!.details).toEqual({ email: email.toLowerCase(), roles: ['viewer'], disabled: false });
    // The new account signs in with the password it was given.
    await signIn(h, { email, password: PASSWORD });
  });

  it('takes roles and disabled', async () => {
    const email = uniqueEmail();
    const res = await h.call('POST', '/v1/users', {
      token: admin.token,
      body: { name: 'Bo', email, password: PASSWORD, roles: ['viewer', 'analyst', 'analyst'], disabled: true },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ roles: ['analyst', 'viewer'], disabled: true });
    const login = await h.call('POST', '/v1/auth/login', { body: { email, password: PASSWORD } });
    expectProblem(login, 403);
  });

  it('takes an empty role list', async () => {
    const res = await h.call('POST', '/v1/users', { token: admin.token, body: { name: 'Nobody', email: uniqueEmail(), password: PASSWORD, roles: [] } });
    expect(res.status).toBe(201);
    expect(res.body.roles).toEqual([]);
  });

  it('refuses an unknown role with 422 at path roles, and writes nothing', async () => {
    const email = uniqueEmail();
    const before = await auditCount(h);
    const res = await h.call('POST', '/v1/users', { token: admin.token, body: { name: 'X', email, password: PASSWORD, roles: ['viewer', 'no-such-role'] } });
    expectInvalid(res, 'roles');
    expectWithinBudget('POST /v1/users', res);
    expect(await h.query('select id from users where email = $1', [email])).toEqual([]);
    expect(await auditCount(h)).toBe(before);
  });

  it('refuses a taken email in any case with 409, and writes nothing', async () => {
    const before = await auditCount(h);
    const res = await h.call('POST', '/v1/users', { token: admin.token, body: { name: 'Dup', email: viewer.email.toUpperCase(), password: PASSWORD } });
    expectProblem(res, 409);
    expect(await auditCount(h)).toBe(before);
  });

  it.each([
    ['name', { name: '   ' }],
    ['name', { name: 'x'.repeat(101) }],
    ['email', { email: 'not-an-email' }],
    ['password', { password: 'x'.repeat(11) }],
    ['password', { password: '🔑'.repeat(11) }],
    ['password', { password: 'x'.repeat(129) }],
    ['roles.0', { roles: ['Admin'] }],
    ['roles', { roles: 'admin' }],
    ['disabled', { disabled: 'yes' }],
    ['id', { id: 5 }],
    ['hashedPassword', { hashedPassword: 'x' }],
  ])('422 at %s for %j', async (path, patch) => {
    const body = { name: 'Valid', email: uniqueEmail(), password: PASSWORD, ...patch };
    expectInvalid(await h.call('POST', '/v1/users', { token: admin.token, body }), path);
  });

  it('counts password length in code points', async () => {
    const res = await h.call('POST', '/v1/users', { token: admin.token, body: { name: 'Emoji', email: uniqueEmail(), password: '🔑'.repeat(12) } });
    expect(res.status).toBe(201);
  });

  it('400 for malformed JSON, 415 for another media type', async () => {
    expectProblem(await h.call('POST', '/v1/users', { token: admin.token, raw: '{"name":', headers: { 'content-type': 'application/json' } }), 400);
    expectProblem(await h.call('POST', '/v1/users', { token: admin.token, raw: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415);
  });
});

describe('GET /v1/users/:id', () => {
  it('answers any user to an admin and to an analyst, with roles, in one statement', async () => {
    for (const caller of [admin, analyst]) {
      const res = await h.call('GET', `/v1/users/${viewer.id}`, { token: caller.token });
      expect(res.status).toBe(200);
      expectWithinBudget('GET /v1/users/:id', res);
      expect(res.body).toMatchObject({ id: viewer.id, email: viewer.email, roles: ['viewer'], disabled: false });
      expect(res.body.lastLoginAt).not.toBeNull();
    }
  });

  it('lets any caller read their own user, but nobody else', async () => {
    const own = await h.call('GET', `/v1/users/${viewer.id}`, { token: viewer.token });
    expect(own.status).toBe(200);
    expect(own.body.id).toBe(viewer.id);
    expectProblem(await h.call('GET', `/v1/users/${admin.id}`, { token: viewer.token }), 403);
    expectProblem(await h.call('GET', '/v1/users/999999', { token: viewer.token }), 403);
  });

  it('404 for an unknown id', async () => {
    const res = await h.call('GET', '/v1/users/2147483647', { token: admin.token });
    expectProblem(res, 404);
    expectWithinBudget('GET /v1/users/:id', res);
  });

  it.each(BAD_IDS)('404, never 500, for id %s on every user route', async (id) => {
    const calls = [
      h.call('GET', `/v1/users/${id}`, { token: admin.token }),
      h.call('PATCH', `/v1/users/${id}`, { token: admin.token, body: { name: 'X' } }),
      h.call('DELETE', `/v1/users/${id}`, { token: admin.token }),
      h.call('PUT', `/v1/users/${id}/roles`, { token: admin.token, body: { roles: [] } }),
      h.call('PUT', `/v1/users/${id}/roles/viewer`, { token: admin.token }),
      h.call('DELETE', `/v1/users/${id}/roles/viewer`, { token: admin.token }),
      h.call('DELETE', `/v1/users/${id}/sessions`, { token: admin.token }),
    ];
    for (const res of await Promise.all(calls)) {
      expectProblem(res, 404);
      // Only the caller check runs (an id that cannot exist is answered without looking it up).
      expect(res.statements).toBe(1);
      expect(res.guarded).toBe(1);
    }
  });
});

describe('PATCH /v1/users/:id', () => {
  it('changes name and email, recording only the fields that changed', async () => {
    const user = await createUser(h, { name: 'Old Name' });
    const email = uniqueEmail('New');
    const res = await h.call('PATCH', `/v1/users/${user.id}`, { token: admin.token, body: { name: 'New Name', email: email.toUpperCase() } });
    expect(res.status).toBe(200);
    expectWithinBudget('PATCH /v1/users/:id', res);
    expect(res.body).toMatchObject({ id: user.id, name: 'New Name', email: email.toLowerCase(), roles: ['viewer'] });
    const again = await h.call('PATCH', `/v1/users/${user.id}`, { token: admin.token, body: { name: 'New Name', disabled: false } });
    expect(again.status).toBe(200);
    const rows = await audit(h, 'user.update', user.id);
    expect(rows.map((r) => r.details)).toEqual([{ fields: ['name', 'email'] }]);
    expect(rows[0]!.actor_id).toBe(admin.id);
  });

  it('answers {} with the user unchanged and writes no audit row', async () => {
    const user = await createUser(h);
    const res = await h.call('PATCH', `/v1/users/${user.id}`, { token: admin.token, body: {} });
    expect(res.status).toBe(200);
    expectWithinBudget('PATCH /v1/users/:id', res);
    expect(res.body.email).toBe(user.email);
    expect(await audit(h, 'user.update', user.id)).toEqual([]);
  });

  it('409 for an email another user has (in any case); nothing changes', async () => {
    const user = await createUser(h);
    const before = await auditCount(h);
    const res = await h.call('PATCH', `/v1/users/${user.id}`, { token: admin.token, body: { name: 'Changed', email: ` ${viewer.email.toUpperCase()}` } });
    expectProblem(res, 409);
    expectWithinBudget('PATCH /v1/users/:id', res);
    expect(await h.query('select name, email from users where id = $1', [user.id])).toEqual([{ name: 'Test User', email: user.email }]);
    expect(await auditCount(h)).toBe(before);
  });

  it('keeping one’s own email is no conflict', async () => {
    const user = await createUser(h);
    const res = await h.call('PATCH', `/v1/users/${user.id}`, { token: admin.token, body: { email: user.email } });
    expect(res.status).toBe(200);
  });

  it('a new password revokes every session and works for sign-in; the audit row never holds it', async () => {
    const user = await userWithSessions(h);
    const password = 'a brand new password!';
    const res = await h.call('PATCH', `/v1/users/${user.id}`, { token: admin.token, body: { password } });
    expect(res.status).toBe(200);
    expectWithinBudget('PATCH /v1/users/:id', res);
    await expectSessionsRevoked(h, user.refreshTokens);
    expectProblem(await h.call('POST', '/v1/auth/login', { body: { email: user.email, password: PASSWORD } }), 401);
    await signIn(h, { email: user.email, password });
    const rows = await audit(h, 'user.update', user.id);
    expect(rows.map((r) => r.details)).toEqual([{ fields: ['password'] }]);
    const all = JSON.stringify(await h.query(`select details from audit_events where target_id = $1`, [String(user.id)]));
    expect(all).not.toContain(password);
    expect(all).not.toContain('scrypt');
    expect(all).not.toContain('argon2');
  });

  it('disabling revokes every session and stops sign-in; enabling lets the user back', async () => {
    const user = await userWithSessions(h);
    const res = await h.call('PATCH', `/v1/users/${user.id}`, { token: admin.token, body: { disabled: true } });
    expect(res.status).toBe(200);
    expect(res.body.disabled).toBe(true);
    await expectSessionsRevoked(h, user.refreshTokens);
    expectProblem(await h.call('POST', '/v1/auth/login', { body: { email: user.email, password: PASSWORD } }), 403);
    const back = await h.call('PATCH', `/v1/users/${user.id}`, { token: admin.token, body: { disabled: false } });
    expect(back.body.disabled).toBe(false);
    await signIn(h, user);
    expect((await audit(h, 'user.update', user.id)).map((r) => r.details)).toEqual([{ fields: ['disabled'] }, { fields: ['disabled'] }]);
  });

  it('a name change leaves sessions alone', async () => {
    const user = await userWithSessions(h);
    await h.call('PATCH', `/v1/users/${user.id}`, { token: admin.token, body: { name: 'Renamed' } });
    expect((await refresh(h, user.refreshTokens[0]!)).status).toBe(200);
  });

  it.each([
    ['roles', { roles: ['admin'] }],
    ['name', { name: '' }],
    ['email', { email: 'nope' }],
    ['password', { password: 'short' }],
    ['disabled', { disabled: 1 }],
    ['createdAt', { createdAt: '2020-01-01T00:00:00.000Z' }],
  ])('422 at %s for %j', async (path, body) => {
    const user = await createUser(h);
    expectInvalid(await h.call('PATCH', `/v1/users/${user.id}`, { token: admin.token, body }), path);
  });

  it('404 for an unknown id', async () => {
    const res = await h.call('PATCH', '/v1/users/2147483647', { token: admin.token, body: { name: 'Ghost' } });
    expectProblem(res, 404);
    expectWithinBudget('PATCH /v1/users/:id', res);
  });
});

describe('DELETE /v1/users/:id', () => {
  it('deletes the user and their sessions, once', async () => {
    const user = await userWithSessions(h, ['analyst']);
    const res = await h.call('DELETE', `/v1/users/${user.id}`, { token: admin.token });
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expectWithinBudget('DELETE /v1/users/:id', res);
    expectProblem(await h.call('GET', `/v1/users/${user.id}`, { token: admin.token }), 404);
    await expectSessionsRevoked(h, user.refreshTokens);
    expect(await h.query('select 1 from users_roles where user_id = $1', [user.id])).toEqual([]);
    const rows = await audit(h, 'user.delete', user.id);
    expect(rows).toEqual([{ actor_id: admin.id, details: { email: user.email } }]);
    const again = await h.call('DELETE', `/v1/users/${user.id}`, { token: admin.token });
    expectProblem(again, 404);
    expectWithinBudget('DELETE /v1/users/:id', again);
  });
});

describe('PUT /v1/users/:id/roles', () => {
  it('replaces the set, revokes sessions and records one row per role added or removed', async () => {
    const user = await userWithSessions(h, ['viewer', 'analyst']);
    const res = await h.call('PUT', `/v1/users/${user.id}/roles`, { token: admin.token, body: { roles: ['analyst', 'admin'] } });
    expect(res.status).toBe(200);
    expectWithinBudget('PUT /v1/users/:id/roles', res);
    expect(res.body).toMatchObject({ id: user.id, roles: ['admin', 'analyst'] });
    expect((await h.call('GET', `/v1/users/${user.id}`, { token: admin.token })).body.roles).toEqual(['admin', 'analyst']);
    await expectSessionsRevoked(h, user.refreshTokens);
    expect((await audit(h, 'role.assign', user.id)).map((r) => r.details)).toEqual([{ role: 'admin' }]);
    expect((await audit(h, 'role.unassign', user.id)).map((r) => r.details)).toEqual([{ role: 'viewer' }]);
  });

  it('the same set again changes nothing: no audit row, sessions stay', async () => {
    const user = await userWithSessions(h, ['viewer']);
    const res = await h.call('PUT', `/v1/users/${user.id}/roles`, { token: admin.token, body: { roles: ['viewer'] } });
    expect(res.status).toBe(200);
    expect(res.body.roles).toEqual(['viewer']);
    expect(await audit(h, 'role.assign', user.id)).toEqual([]);
    expect((await refresh(h, user.refreshTokens[0]!)).status).toBe(200);
  });

  it('concurrent replaces serialise: the result is one of the sets, never a mix', async () => {
    const roles = ['auditor-x', 'auditor-y', 'auditor-z'];
    await h.query(`insert into roles (name) select unnest($1::text[]) on conflict do nothing`, [roles]);
    for (let round = 0; round < 5; round++) {
      const user = await createUser(h, { roles: ['viewer'] });
      const sets = [['analyst', 'auditor-x'], ['auditor-y', 'auditor-z']];
      const results = await Promise.all(sets.map((set) => h.call('PUT', `/v1/users/${user.id}/roles`, { token: admin.token, body: { roles: set } })));
      expect(results.map((r) => r.status)).toEqual([200, 200]);
      const final = (await h.call('GET', `/v1/users/${user.id}`, { token: admin.token })).body.roles;
      expect(sets.map((set) => [...set].sort())).toContainEqual(final);
    }
  });

  it('an empty list takes every role', async () => {
    const user = await createUser(h, { roles: ['viewer', 'analyst'] });
    const res = await h.call('PUT', `/v1/users/${user.id}/roles`, { token: admin.token, body: { roles: [] } });
    expect(res.body.roles).toEqual([]);
    expect((await audit(h, 'role.unassign', user.id)).map((r) => r.details.role).sort()).toEqual(['analyst', 'viewer']);
  });

  it('an unknown role is a 422 at roles and nothing changes', async () => {
    const user = await userWithSessions(h, ['viewer']);
    const before = await auditCount(h);
    const res = await h.call('PUT', `/v1/users/${user.id}/roles`, { token: admin.token, body: { roles: ['analyst', 'ghost-role'] } });
    expectInvalid(res, 'roles');
    expectWithinBudget('PUT /v1/users/:id/roles', res);
    expect((await h.call('GET', `/v1/users/${user.id}`, { token: admin.token })).body.roles).toEqual(['viewer']);
    expect(await auditCount(h)).toBe(before);
    expect((await refresh(h, user.refreshTokens[0]!)).status).toBe(200);
  });

  it.each([
    ['roles', {}],
    ['roles', { roles: 'viewer' }],
    ['roles.0', { roles: ['VIEWER'] }],
    ['extra', { roles: [], extra: 1 }],
  ])('422 at %s for %j', async (path, body) => {
    const user = await createUser(h);
    expectInvalid(await h.call('PUT', `/v1/users/${user.id}/roles`, { token: admin.token, body }), path);
  });

  it('404 for an unknown user', async () => {
    const res = await h.call('PUT', '/v1/users/2147483647/roles', { token: admin.token, body: { roles: ['viewer'] } });
    expectProblem(res, 404);
    expectWithinBudget('PUT /v1/users/:id/roles', res);
  });
});

describe('PUT and DELETE /v1/users/:id/roles/:role', () => {
  it('grants a role idempotently: one row, one audit row, sessions revoked once', async () => {
    const user = await userWithSessions(h, ['viewer']);
    const first = await h.call('PUT', `/v1/users/${user.id}/roles/analyst`, { token: admin.token });
    expect(first.status).toBe(204);
    expect(first.text).toBe('');
    expectWithinBudget('PUT /v1/users/:id/roles/:role', first);
    await expectSessionsRevoked(h, user.refreshTokens);
    const fresh = await signIn(h, user);
    const second = await h.call('PUT', `/v1/users/${user.id}/roles/analyst`, { token: admin.token });
    expect(second.status).toBe(204);
    expect((await refresh(h, fresh.refreshToken)).status).toBe(200);
    expect((await h.call('GET', `/v1/users/${user.id}`, { token: admin.token })).body.roles).toEqual(['analyst', 'viewer']);
    expect(await audit(h, 'role.assign', user.id)).toEqual([{ actor_id: admin.id, details: { role: 'analyst' } }]);
  });

  it('concurrent grants of one role leave exactly one row and one audit row', async () => {
    const user = await createUser(h, { roles: [] });
    const results = await Promise.all(Array.from({ length: 6 }, () => h.call('PUT', `/v1/users/${user.id}/roles/analyst`, { token: admin.token })));
    expect(results.map((r) => r.status)).toEqual(Array(6).fill(204));
    const rows = await h.query(`select 1 from users_roles ur join roles r on r.id = ur.role_id where ur.user_id = $1 and r.name = 'analyst'`, [user.id]);
    expect(rows).toHaveLength(1);
    expect(await audit(h, 'role.assign', user.id)).toHaveLength(1);
  });

  it('takes a role idempotently', async () => {
    const user = await userWithSessions(h, ['viewer', 'analyst']);
    const first = await h.call('DELETE', `/v1/users/${user.id}/roles/analyst`, { token: admin.token });
    expect(first.status).toBe(204);
    expectWithinBudget('DELETE /v1/users/:id/roles/:role', first);
    await expectSessionsRevoked(h, user.refreshTokens);
    const second = await h.call('DELETE', `/v1/users/${user.id}/roles/analyst`, { token: admin.token });
    expect(second.status).toBe(204);
    expect((await h.call('GET', `/v1/users/${user.id}`, { token: admin.token })).body.roles).toEqual(['viewer']);
    expect(await audit(h, 'role.unassign', user.id)).toEqual([{ actor_id: admin.id, details: { role: 'analyst' } }]);
  });

  it.each(['PUT', 'DELETE'])('%s: 404 for an unknown user, an unknown role or a name no role can have', async (method) => {
    const user = await createUser(h);
    for (const path of [`/v1/users/2147483647/roles/viewer`, `/v1/users/${user.id}/roles/ghost-role`, `/v1/users/${user.id}/roles/NOT_A_ROLE`, `/v1/users/${user.id}/roles/${'a'.repeat(51)}`]) {
      const res = await h.call(method, path, { token: admin.token });
      expectProblem(res, 404);
      expect(res.statements).toBeLessThanOrEqual(1);
    }
    expect((await h.call('GET', `/v1/users/${user.id}`, { token: admin.token })).body.roles).toEqual(['viewer']);
  });
});

describe('DELETE /v1/users/:id/sessions', () => {
  it('revokes every session of the user, and only theirs', async () => {
    const user = await userWithSessions(h);
    const other = await userWithSessions(h);
    const res = await h.call('DELETE', `/v1/users/${user.id}/sessions`, { token: admin.token });
    expect(res.status).toBe(204);
    expectWithinBudget('DELETE /v1/users/:id/sessions', res);
    await expectSessionsRevoked(h, user.refreshTokens);
    expect((await refresh(h, other.refreshTokens[0]!)).status).toBe(200);
    const rows = await audit(h, 'auth.logout', user.id);
    expect(rows).toEqual([{ actor_id: admin.id, details: { sessions: 2, all: true } }]);
    // Idempotent: nothing left to revoke is still a 204.
    expect((await h.call('DELETE', `/v1/users/${user.id}/sessions`, { token: admin.token })).status).toBe(204);
  });

  it('404 for an unknown user', async () => {
    const res = await h.call('DELETE', '/v1/users/2147483647/sessions', { token: admin.token });
    expectProblem(res, 404);
    expectWithinBudget('DELETE /v1/users/:id/sessions', res);
  });
});

describe('last-admin protection', () => {
  // A database of its own: these tests need to know exactly who the enabled admins are.
  let g: Harness;
  beforeAll(async () => {
    g = await createHarness();
  });
  afterAll(() => g.drop());

  const enabledAdmins = async () =>
    (
      await g.query<{ id: number }>(
        `select u.id from users u join users_roles ur on ur.user_id = u.id join roles r on r.id = ur.role_id
         where r.name = 'admin' and not u.disabled order by u.id`,
      )
    ).map((r) => r.id);

  /** Leaves the database with exactly the given enabled admins (and no other admin assignment). */
  async function onlyAdmins(...ids: number[]) {
    await g.query(`update users set disabled = false where id = any($1::int[])`, [ids]);
    await g.query(`insert into users_roles (user_id, role_id) select u, (select id from roles where name = 'admin') from unnest($1::int[]) u on conflict do nothing`, [ids]);
    await g.query(`delete from users_roles where role_id = (select id from roles where name = 'admin') and user_id <> all($1::int[])`, [ids]);
    expect(await enabledAdmins()).toEqual([...ids].sort((a, b) => a - b));
  }

  it('refuses every way of removing the only enabled admin, and changes nothing', async () => {
    const a = await userWithToken(g, ['admin']);
    const disabledAdmin = await createUser(g, { roles: ['admin'], disabled: true });
    await onlyAdmins(a.id);
    await g.query(`insert into users_roles (user_id, role_id) select $1, id from roles where name = 'admin'`, [disabledAdmin.id]);
    const before = await auditCount(g);
    const attempts = [
      g.call('DELETE', `/v1/users/${a.id}/roles/admin`, { token: a.token }),
      g.call('PUT', `/v1/users/${a.id}/roles`, { token: a.token, body: { roles: ['viewer'] } }),
      g.call('PATCH', `/v1/users/${a.id}`, { token: a.token, body: { name: 'Still Admin', disabled: true } }),
      g.call('DELETE', `/v1/users/${a.id}`, { token: a.token }),
    ];
    for (const res of await Promise.all(attempts)) {
      expectProblem(res, 409);
      expect(res.body.type).toMatch(/last-admin$/);
      expect(res.statements).toBe(1);
    }
    expect(await enabledAdmins()).toEqual([a.id]);
    expect(await g.query('select name, disabled from users where id = $1', [a.id])).toEqual([{ name: 'Test User', disabled: false }]);
    expect(await auditCount(g)).toBe(before);
    // Other changes to the last admin are fine.
    expect((await g.call('PATCH', `/v1/users/${a.id}`, { token: a.token, body: { name: 'Renamed Admin' } })).status).toBe(200);
    expect((await g.call('PUT', `/v1/users/${a.id}/roles`, { token: a.token, body: { roles: ['admin', 'analyst'] } })).status).toBe(200);
    // Changing one's own roles revoked one's sessions: that token is dead now.
    expectProblem(await g.call('GET', '/v1/me', { token: a.token }), 401);
    const again = (await signIn(g, a)).accessToken;
    // A disabled admin can lose admin or be deleted: that removes no enabled admin.
    expect((await g.call('DELETE', `/v1/users/${disabledAdmin.id}/roles/admin`, { token: again })).status).toBe(204);
    expect((await g.call('DELETE', `/v1/users/${disabledAdmin.id}`, { token: again })).status).toBe(204);
  });

  it('allows removing an admin while another enabled admin remains', async () => {
    const a = await userWithToken(g, ['admin']);
    const b = await createUser(g, { roles: ['admin'] });
    await onlyAdmins(a.id, b.id);
    expect((await g.call('DELETE', `/v1/users/${a.id}/roles/admin`, { token: a.token })).status).toBe(204);
    expect(await enabledAdmins()).toEqual([b.id]);
  });

  it('holds in the database itself, for any client', async () => {
    const a = await createUser(g, { roles: ['admin'] });
    await onlyAdmins(a.id);
    await expect(g.query(`delete from users_roles where user_id = $1`, [a.id])).rejects.toMatchObject({ code: 'P0A01' });
    await expect(g.query(`update users set disabled = true where id = $1`, [a.id])).rejects.toMatchObject({ code: 'P0A01' });
    await expect(g.query(`delete from users where id = $1`, [a.id])).rejects.toMatchObject({ code: 'P0A01' });
    const b = await createUser(g, { roles: ['admin'] });
    await onlyAdmins(a.id, b.id);
    // Both at once, in one statement, is refused too.
    await expect(g.query(`update users set disabled = true where id = any($1::int[])`, [[a.id, b.id]])).rejects.toMatchObject({ code: 'P0A01' });
    await expect(g.query(`delete from users where id = any($1::int[])`, [[a.id, b.id]])).rejects.toMatchObject({ code: 'P0A01' });
    expect(await enabledAdmins()).toEqual([a.id, b.id].sort((x, y) => x - y));
  });

  // Two admins each removing the other at the same moment: exactly one wins, one enabled admin remains. The loser
  // is refused either by the last-admin guard (409) or, because the winner's change revoked the loser's sessions
  // before the loser's statement could lock its own, by the request-time check (401).
  const loserStatus = (s: number) => s === 401 || s === 409;
  const races: [string, (db: Harness, me: Token, other: Token) => Promise<{ status: number }>][] = [
    ['take each other’s admin role', (db, me, other) => db.call('DELETE', `/v1/users/${other.id}/roles/admin`, { token: me.token })],
    ['replace each other’s roles', (db, me, other) => db.call('PUT', `/v1/users/${other.id}/roles`, { token: me.token, body: { roles: ['viewer'] } })],
    ['disable each other', (db, me, other) => db.call('PATCH', `/v1/users/${other.id}`, { token: me.token, body: { disabled: true } })],
    ['delete each other', (db, me, other) => db.call('DELETE', `/v1/users/${other.id}`, { token: me.token })],
  ];

  it.each(races)('concurrently: %s', async (_name, act) => {
    for (let round = 0; round < 3; round++) {
      const [a, b] = await Promise.all([userWithToken(g, ['admin']), userWithToken(g, ['admin'])]);
      await onlyAdmins(a.id, b.id);
      const results = await Promise.all([act(g, a, b), act(g, b, a)]);
      const statuses = results.map((r) => r.status).sort();
      expect(statuses.filter((s) => s === 200 || s === 204), String(statuses)).toHaveLength(1);
      expect(statuses.filter(loserStatus), String(statuses)).toHaveLength(1);
      const left = await enabledAdmins();
      expect(left).toHaveLength(1);
      expect([a.id, b.id]).toContain(left[0]);
    }
  });

  it('a disable and a role removal racing on two admins leave one', async () => {
    for (let round = 0; round < 3; round++) {
      const [a, b] = await Promise.all([userWithToken(g, ['admin']), userWithToken(g, ['admin'])]);
      await onlyAdmins(a.id, b.id);
      const results = await Promise.all([
        g.call('PATCH', `/v1/users/${b.id}`, { token: a.token, body: { disabled: true } }),
        g.call('DELETE', `/v1/users/${a.id}/roles/admin`, { token: b.token }),
      ]);
      expect(results.filter((r) => r.status === 200 || r.status === 204)).toHaveLength(1);
      expect(results.filter((r) => loserStatus(r.status))).toHaveLength(1);
      expect(await enabledAdmins()).toHaveLength(1);
    }
  });

  it('serialises: a second removal waits for the first to commit, then sees it and is refused', async () => {
    const a = await createUser(g, { roles: ['admin'] });
    const b = await createUser(g, { roles: ['admin'] });
    await onlyAdmins(a.id, b.id);
    const { Client } = await import('@neondatabase/serverless');
    const first = new Client({ connectionString: g.databaseUrl });
    const second = new Client({ connectionString: g.databaseUrl });
    first.on('error', () => {});
    second.on('error', () => {});
    await Promise.all([first.connect(), second.connect()]);
    try {
      await first.query('begin');
      await first.query(`delete from users_roles where user_id = $1`, [a.id]);
      let settled = false;
      const racing = second.query(`delete from users_roles where user_id = $1`, [b.id]).finally(() => (settled = true));
      racing.catch(() => {});
      await new Promise((r) => setTimeout(r, 300));
      // Under a snapshot check both would have passed by now; the guard makes the second wait on the first.
      expect(settled).toBe(false);
      await first.query('commit');
      await expect(racing).rejects.toMatchObject({ code: 'P0A01' });
    } finally {
      await Promise.all([first.end(), second.end()]);
    }
    expect(await enabledAdmins()).toEqual([b.id]);
  });
});

describe('GET /v1/users (listing)', () => {
  // Its own database, so every page can be compared with the whole table.
  let l: Harness;
  let token: string;

  const SEARCHABLE = [
    ['100% Sure', 'pct@example.org'],
    ['under_score', 'us@example.org'],
    ['underXscore', 'ux@example.org'],
    ["O'Brien", 'obrien@example.net'],
    ['Quote "Q"', 'quote@example.net'],
    ['back\\slash', 'bs@example.net'],
    ['Zoë Faure', 'zoe@example.net'],
    ['日本太郎', 'taro@example.net'],
    ['Émile', 'emile@example.net'],
    ['percent100', 'p100@example.net'],
  ];

  beforeAll(async () => {
    l = await createHarness();
    const me = await userWithToken(l, ['admin']);
    token = me.token;
    // 40 more users: repeated names and identical timestamps (to the microsecond, and within one millisecond) so
    // that the id tie-break and the cursor's precision are exercised; a mix of roles and disabled flags.
    const names = ['Ada', 'ada', 'ADA', 'Bob', 'Bob', 'Carla', 'Dmitri', 'Eve', 'Eve', 'Eve'];
    const rows: [string, string][] = [...SEARCHABLE.map(([n, e]) => [n!, e!] as [string, string])];
    for (let i = 0; rows.length < 40; i++) rows.push([names[i % names.length]!, `user${String(i).padStart(2, '0')}@example.com`]);
    await l.query(
      `with input as (select * from unnest($1::text[], $2::text[]) with ordinality as t(name, email, n)),
       u as (
         insert into users (name, email, hashed_password, disabled, created_at)
         select name, email, 'x', n % 5 = 0,
           case when n % 3 = 0 then '2026-01-01T00:00:00.123456Z'::timestamptz
                when n % 3 = 1 then '2026-01-01T00:00:00.123457Z'::timestamptz
                else '2026-01-01T00:00:00Z'::timestamptz + n * interval '1 minute' end
         from input order by n returning id, email
       )
       insert into users_roles (user_id, role_id)
       select u.id, r.id from u join roles r on r.name = case when u.email like '%.org' or u.email like 'user0%' then 'analyst' else 'viewer' end`,
      [rows.map((r) => r[0]), rows.map((r) => r[1])],
    );
  });
  afterAll(() => l.drop());

  const ORDER_SQL: Record<string, string> = {
    createdAt: 'created_at, id',
    '-createdAt': 'created_at desc, id desc',
    name: 'name, id',
    '-name': 'name desc, id desc',
    email: 'email',
    '-email': 'email desc',
  };

  async function walk(query: string, limit: number) {
    const ids: number[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const res = await l.call('GET', `/v1/users?${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token });
      expect(res.status, res.text).toBe(200);
      expectWithinBudget('GET /v1/users', res);
      expect(res.body.data.length).toBeLessThanOrEqual(limit);
      ids.push(...res.body.data.map((u: { id: number }) => u.id));
      cursor = res.body.nextCursor;
      if (cursor === null) return ids;
      expect(res.body.data).toHaveLength(limit);
    }
    throw new Error('did not reach the last page');
  }

  it.each(Object.keys(ORDER_SQL))('walks every user in sort %s with no duplicate and no gap', async (sort) => {
    const expected = (await l.query<{ id: number }>(`select id from users order by ${ORDER_SQL[sort]}`)).map((r) => r.id);
    expect(expected.length).toBeGreaterThanOrEqual(41);
    for (const limit of [7, 41]) expect(await walk(`sort=${sort}`, limit)).toEqual(expected);
  });

  it('defaults to -createdAt and 20 per page', async () => {
    const res = await l.call('GET', '/v1/users', { token });
    const expected = (await l.query<{ id: number }>(`select id from users order by created_at desc, id desc limit 20`)).map((r) => r.id);
    expect(res.body.data.map((u: { id: number }) => u.id)).toEqual(expected);
    expect(res.body.nextCursor).toEqual(expect.any(String));
    expect(Object.keys(res.body.data[0]).sort()).toEqual(USER_KEYS);
  });

  it('answers an empty page with a null cursor', async () => {
    const res = await l.call('GET', '/v1/users?q=nobody-has-this', { token });
    expect(res.body).toEqual({ data: [], nextCursor: null });
    expectWithinBudget('GET /v1/users', res);
  });

  it('filters by role and disabled, and walks filtered pages', async () => {
    const expected = (
      await l.query<{ id: number }>(
        `select u.id from users u where u.disabled = false and exists (select 1 from users_roles ur join roles r on r.id = ur.role_id
         where ur.user_id = u.id and r.name = 'analyst') order by u.name, u.id`,
      )
    ).map((r) => r.id);
    expect(expected.length).toBeGreaterThan(3);
    expect(await walk('role=analyst&disabled=false&sort=name', 3)).toEqual(expected);
    const disabled = await walk('disabled=true&sort=email', 4);
    expect(disabled).toEqual((await l.query<{ id: number }>(`select id from users where disabled order by email`)).map((r) => r.id));
  });

  it('an unknown role gives an empty page', async () => {
    const res = await l.call('GET', '/v1/users?role=no-such-role', { token });
    expect(res.body).toEqual({ data: [], nextCursor: null });
  });

  const search = async (q: string, extra = '') => {
    const res = await l.call('GET', `/v1/users?q=${encodeURIComponent(q)}&sort=name&limit=100${extra}`, { token });
    expect(res.status, res.text).toBe(200);
    expectWithinBudget('GET /v1/users', res);
    return res.body.data.map((u: { name: string }) => u.name);
  };

  it.each([
    ['%', ['100% Sure']],
    ['_', ['under_score']],
    ['r_s', ['under_score']],
    ['\\', ['back\\slash']],
    ["o'b", ["O'Brien"]],
    ['"q"', ['Quote "Q"']],
    ['ZOË', ['Zoë Faure']],
    ['zoë', ['Zoë Faure']],
    ['日本', ['日本太郎']],
    ['émile', ['Émile']],
    ['100', ['100% Sure', 'percent100']],
  ])('q=%s matches %j literally and case-insensitively', async (q, names) => {
    expect(await search(q)).toEqual(names);
  });

  it('q matches the email too, case-insensitively', async () => {
    expect((await search('EXAMPLE.ORG')).sort()).toEqual(['100% Sure', 'underXscore', 'under_score'].sort());
    const ada = await l.query<{ name: string }>(`select name from users where name ilike '%ada%' or email ilike '%ada%' order by name, id`);
    expect(ada.length).toBeGreaterThan(3);
    expect(await search('ada')).toEqual(ada.map((r) => r.name));
  });

  it('q combines with a sort walk', async () => {
    const expected = (await l.query<{ id: number }>(`select id from users where name ilike '%e%' or email ilike '%e%' order by created_at desc, id desc`)).map((r) => r.id);
    expect(await walk('q=E', 5)).toEqual(expected);
  });

  it.each([
    ['limit', 'limit=0'],
    ['limit', 'limit=101'],
    ['limit', 'limit=abc'],
    ['limit', 'limit=1.5'],
    ['sort', 'sort=password'],
    ['sort', 'sort=createdat'],
    ['disabled', 'disabled=yes'],
    ['role', 'role=Admin'],
    ['q', `q=${'x'.repeat(101)}`],
  ])('422 at %s for ?%s', async (path, query) => {
    const res = await l.call('GET', `/v1/users?${query}`, { token });
    expectInvalid(res, path);
    // The caller is checked before the validation error is answered (so a caller without users:read sees a 403).
    expect(res.statements).toBe(1);
    expect(res.guarded).toBe(1);
  });

  it('takes limit 1 and 100 and a q of 100 characters', async () => {
    for (const query of ['limit=1', 'limit=100', `q=${'x'.repeat(100)}`]) expect((await l.call('GET', `/v1/users?${query}`, { token })).status).toBe(200);
  });

  it('400 for a tampered, malformed or foreign cursor, or one made for another sort', async () => {
    const page = await l.call('GET', '/v1/users?sort=name&limit=2', { token });
    const cursor: string = page.body.nextCursor;
    const [body, tag] = cursor.split('.') as [string, string];
    const payload = JSON.parse(atob(body.replace(/-/g, '+').replace(/_/g, '/')));
    const forged = btoa(JSON.stringify({ ...payload, id: 1 })).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    const config = loadConfig(l.env);
    const bad = [
      `${forged}.${tag}`,
      `${body}.${tag.slice(0, -2)}${tag.endsWith('AA') ? 'BB' : 'AA'}`,
      body,
      `${body}.${tag}.x`,
      'not a cursor',
      '%%%',
      'x'.repeat(5000),
      await encodeCursor(config, 'audit', '-id', [], 5),
      await encodeCursor(config, 'role-users:viewer', 'id', [], 5),
      await encodeCursor(config, 'users', 'name', [5], 5),
    ];
    for (const c of bad) {
      const res = await l.call('GET', `/v1/users?sort=name&cursor=${encodeURIComponent(c)}`, { token });
      expectProblem(res, 400);
    }
    expectProblem(await l.call('GET', `/v1/users?sort=-name&cursor=${encodeURIComponent(cursor)}`, { token }), 400);
    expectProblem(await l.call('GET', `/v1/users?cursor=${encodeURIComponent(cursor)}`, { token }), 400);
    expect((await l.call('GET', `/v1/users?sort=name&cursor=${encodeURIComponent(cursor)}`, { token })).status).toBe(200);
  });

  it('is open to analysts', async () => {
    const reader = await userWithToken(l, ['analyst']);
    expect((await l.call('GET', '/v1/users', { token: reader.token })).status).toBe(200);
  });
});

describe('GET /v1/users?role= on a role with many holders', () => {
  // Above 5,000 holders the role filter walks the sort index instead of sorting the holders: both paths must page
  // identically.
  let m: Harness;
  let token: string;
  beforeAll(async () => {
    m = await createHarness();
    token = (await userWithToken(m, ['admin'])).token;
    await m.query(`
      with u as (
        insert into users (name, email, hashed_password, disabled, created_at)
        select case when g % 173 = 0 then 'Needle ' else 'Bulk ' end || (g % 400), 'bulk' || g || '@example.com', 'x', g % 7 = 0,
               '2026-01-01T00:00:00Z'::timestamptz + (g % 900) * interval '1 second'
        from generate_series(1, 7800) g returning id
      )
      -- Every third user holds viewer instead, so non-holders are interleaved in every order.
      insert into users_roles (user_id, role_id) select u.id, r.id from u, roles r where r.name = case when u.id % 3 = 0 then 'viewer' else 'analyst' end`);
  });
  afterAll(() => m.drop());

  async function pages(query: string, limit: number, max = Infinity) {
    const ids: number[] = [];
    let cursor: string | null = null;
    for (let n = 0; n < max; n++) {
      const res = await m.call('GET', `/v1/users?${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token });
      expect(res.status, res.text).toBe(200);
      expectWithinBudget('GET /v1/users', res);
      ids.push(...res.body.data.map((u: { id: number }) => u.id));
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    return ids;
  }

  const holders = `exists (select 1 from users_roles ur join roles r on r.id = ur.role_id where ur.user_id = u.id and r.name = 'analyst')`;

  it('pages through the first pages in order', async () => {
    const expected = (await m.query<{ id: number }>(`select id from users u where ${holders} order by created_at, id limit 300`)).map((r) => r.id);
    expect(await pages('role=analyst&sort=createdAt', 100, 3)).toEqual(expected);
  });

  it('walks a filtered set to the end with no duplicate and no gap', async () => {
    const expected = (
      await m.query<{ id: number }>(`select id from users u where ${holders} and u.name ilike '%needle%' and not u.disabled order by name desc, id desc`)
    ).map((r) => r.id);
    expect(expected.length).toBeGreaterThan(20);
    expect(await pages('role=analyst&q=needle&disabled=false&sort=-name', 6)).toEqual(expected);
  });

  it('still finds the few holders of a small role', async () => {
    const res = await m.call('GET', '/v1/users?role=admin', { token });
    expect(res.body.data).toHaveLength(1);
    expect(res.body.nextCursor).toBeNull();
  });
});
