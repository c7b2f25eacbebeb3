/**
 * Contract §8 v3, no acting on someone stronger: a change to another account needs every permission that account
 * holds now (and `admin` when it holds `admin`); deleting a role or changing its permissions needs every permission
 * it carries before and after. Each refusal is a 403 that changes nothing (database fingerprint compared), decided
 * on the target's roles as they are when the change commits (the race tests below).
 */
import type { Client } from '@neondatabase/serverless';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSION_NAMES } from '../src/auth/permissions';
import { expectProblem } from './expect';
import { callerWith as sharedCallerWith, customRole as sharedCustomRole } from './custom-roles';
import { createHarness, createUser, signIn, uniqueEmail, type Harness, type TestUser } from './harness';
import { openTransaction, someoneWaitsForALock } from './lock-wait';

let h: Harness;
let admin: string;
beforeAll(async () => {
  h = await createHarness();
  admin = (await signIn(h, await createUser(h, { roles: ['admin'] }))).accessToken;
});
afterAll(() => h.drop());

const customRole = (permissions: string[]) => sharedCustomRole(h, permissions);
const callerWith = (permissions: string[]) => sharedCallerWith(h, permissions);

/**
 * A target with something every route can change: a live session, a second factor, a sign-in lockout counter, and,
 * when `invited`, no password yet (an open invitation).
 */
async function target(roles: string[], { invited = false } = {}): Promise<TestUser> {
  const user = await createUser(h, { roles });
  await signIn(h, user);
  await h.query(`insert into mfa_factors (user_id, secret, key_id, enabled_at) values ($1, '\\x00', 'k', now())`, [user.id]);
  await h.query(`insert into login_throttle (email_hash, attempts) values (sha256(convert_to($1, 'UTF8')), array[now()])
    on conflict (email_hash) do update set attempts = excluded.attempts`, [user.email]);
  if (invited) await h.query('update users set hashed_password = null where id = $1', [user.id]);
  return user;
}

async function fingerprint() {
  const tables = ['users', 'roles', 'users_roles', 'role_permissions', 'sessions', 'refresh_tokens', 'login_throttle',
    'account_tokens', 'email_outbox', 'mfa_factors', 'mfa_recovery_codes', 'audit_events'];
  const [row] = await h.query(`select ${tables.map((t) => `(select count(*) || ':' || coalesce(sum(hashtext(x::text)), 0) from ${t} x) as ${t}`).join(', ')}`);
  return row;
}

/** 403 `target-stronger`, and the database is exactly as before. */
async function refused(call: () => ReturnType<Harness['call']>) {
  const before = await fingerprint();
  const res = await call();
  expectProblem(res, 403);
  expect(res.body.type).toMatch(/target-stronger$/);
  expect(await fingerprint()).toEqual(before);
}

interface Case {
  route: string;
  /** What the caller needs besides being at least as strong as the target. */
  needs: string[];
  invited?: boolean;
  call(token: string, t: TestUser): ReturnType<Harness['call']>;
  /** The status of the change when it is allowed. */
  ok: number;
}

const CASES: Case[] = [
  { route: 'PATCH name', needs: ['users:write'], ok: 200, call: (token, t) => h.call('PATCH', `/v1/users/${t.id}`, { token, body: { name: 'Taken over' } }) },
  { route: 'PATCH email', needs: ['users:write'], ok: 200, call: (token, t) => h.call('PATCH', `/v1/users/${t.id}`, { token, body: { email: uniqueEmail('mine') } }) },
  { route: 'PATCH password', needs: ['users:write'], ok: 200, call: (token, t) => h.call('PATCH', `/v1/users/${t.id}`, { token, body: { password: 'a password I now know' } }) },
  { route: 'PATCH disabled', needs: ['users:write'], ok: 200, call: (token, t) => h.call('PATCH', `/v1/users/${t.id}`, { token, body: { disabled: true } }) },
  { route: 'DELETE user', needs: ['users:write'], ok: 204, call: (token, t) => h.call('DELETE', `/v1/users/${t.id}`, { token }) },
  { route: 'DELETE sessions', needs: ['users:write'], ok: 204, call: (token, t) => h.call('DELETE', `/v1/users/${t.id}/sessions`, { token }) },
  { route: 'DELETE mfa', needs: ['users:write'], ok: 204, call: (token, t) => h.call('DELETE', `/v1/users/${t.id}/mfa`, { token }) },
  { route: 'POST invitation', needs: ['users:write'], invited: true, ok: 202, call: (token, t) => h.call('POST', `/v1/users/${t.id}/invitation`, { token }) },
  { route: 'POST unlock', needs: ['users:write'], ok: 204, call: (token, t) => h.call('POST', `/v1/users/${t.id}/unlock`, { token }) },
  { route: 'DELETE one role', needs: ['roles:write'], ok: 204, call: (token, t) => h.call('DELETE', `/v1/users/${t.id}/roles/viewer`, { token }) },
  {
    route: 'PUT roles (taking one away)',
    needs: ['roles:write'],
    ok: 200,
    call: async (token, t) => {
      const held = await h.query<{ name: string }>('select r.name from users_roles ur join roles r on r.id = ur.role_id where ur.user_id = $1', [t.id]);
      return h.call('PUT', `/v1/users/${t.id}/roles`, { token, body: { roles: held.map((r) => r.name).filter((r) => r !== 'viewer') } });
    },
  },
];

describe.each(CASES)('$route', (c) => {
  it('a caller with only what the route needs is refused on an admin and on a stronger custom-role holder, and nothing changes', async () => {
    const caller = await callerWith(c.needs);
    const anAdmin = await target(['admin', 'viewer'], c);
    await refused(() => c.call(caller.token, anAdmin));
    const stronger = await target([await customRole([...c.needs, 'audit:read']), 'viewer'], c);
    await refused(() => c.call(caller.token, stronger));
  });

  it('holding every permission is not enough on an admin; holding admin is', async () => {
    const everything = await callerWith([...PERMISSION_NAMES]);
    // Two admins, so that a disable, delete or unassign of one is not the last-admin 409.
    await createUser(h, { roles: ['admin'] });
    const anAdmin = await target(['admin', 'viewer'], c);
    await refused(() => c.call(everything.token, anAdmin));
    expect((await c.call(admin, await target(['admin', 'viewer'], c))).status).toBe(c.ok);
  });

  it('on a weaker or equal account the same caller succeeds', async () => {
    const caller = await callerWith([...c.needs, 'stats:read']);
    expect((await c.call(caller.token, await target(['viewer'], c))).status).toBe(c.ok);
    const equal = await customRole([...c.needs, 'stats:read']);
    expect((await c.call(caller.token, await target([equal, 'viewer'], c))).status).toBe(c.ok);
  });
});

describe('unknown targets and order of answers', () => {
  it('an unknown user is still a 404; a caller without the permission still a 403 forbidden', async () => {
    const caller = await callerWith(['users:write']);
    expectProblem(await h.call('PATCH', '/v1/users/999999', { token: caller.token, body: { name: 'X' } }), 404);
    expectProblem(await h.call('DELETE', '/v1/users/999999/mfa', { token: caller.token }), 404);
    const weak = await callerWith(['stats:read']);
    const res = await h.call('DELETE', `/v1/users/${(await target(['admin']) ).id}`, { token: weak.token });
    expectProblem(res, 403);
    expect(res.body.type).toMatch(/\/forbidden$/);
  });

  it('acting on oneself is never "someone stronger"', async () => {
    const caller = await callerWith(['users:write']);
    expect((await h.call('PATCH', `/v1/users/${caller.id}`, { token: caller.token, body: { name: 'Me' } })).status).toBe(200);
  });

  it('adding roles without taking any away is judged by the no-escalation rule alone', async () => {
    const caller = await callerWith(['roles:write']);
    const t = await target([await customRole(['audit:read'])]);
    const held = await h.query<{ name: string }>('select r.name from users_roles ur join roles r on r.id = ur.role_id where ur.user_id = $1', [t.id]);
    const res = await h.call('PUT', `/v1/users/${t.id}/roles`, { token: caller.token, body: { roles: [...held.map((r) => r.name), 'viewer'] } });
    expect(res.status).toBe(200);
  });
});

describe('roles: deleting one or changing its permissions needs what it carries before and after', () => {
  it('DELETE of a role carrying a permission the caller lacks → 403, nothing changes', async () => {
    const caller = await callerWith(['roles:write']);
    const role = await customRole(['audit:read']);
    await refused(() => h.call('DELETE', `/v1/roles/${role}`, { token: caller.token }));
    const mine = await callerWith(['roles:write', 'audit:read']);
    expect((await h.call('DELETE', `/v1/roles/${role}`, { token: mine.token })).status).toBe(204);
  });

  it('PATCH permissions: narrowing a role the caller could not have made is refused; the description is not judged', async () => {
    const caller = await callerWith(['roles:write', 'stats:read']);
    const role = await customRole(['stats:read', 'audit:read']);
    await refused(() => h.call('PATCH', `/v1/roles/${role}`, { token: caller.token, body: { permissions: ['stats:read'] } }));
    await refused(() => h.call('PATCH', `/v1/roles/${role}`, { token: caller.token, body: { permissions: [] } }));
    expect((await h.call('PATCH', `/v1/roles/${role}`, { token: caller.token, body: { description: 'Readers' } })).status).toBe(200);
    const mine = await customRole(['stats:read']);
    expect((await h.call('PATCH', `/v1/roles/${mine}`, { token: caller.token, body: { permissions: [] } })).status).toBe(200);
  });
});

/** Starts `change` in a transaction, sends `request`, checks it waits, commits (or rolls back), returns its answer. */
async function behind(change: (tx: Client) => Promise<unknown>, request: () => ReturnType<Harness['call']>, end: 'commit' | 'rollback' = 'commit') {
  const tx = await openTransaction(h);
  try {
    await change(tx);
    const pending = request();
    await someoneWaitsForALock(h);
    await tx.query(end);
    return await pending;
  } finally {
    await tx.end();
  }
}

describe('the target’s roles changing concurrently', () => {
  it('a role given to the target (any path: here plain SQL) before the change commits → the change waits, then 403', async () => {
    const caller = await callerWith(['users:write']);
    const t = await createUser(h, { name: 'Before' });
    const res = await behind(
      (tx) => tx.query(`insert into users_roles (user_id, role_id) select $1, id from roles where name = 'admin'`, [t.id]),
      () => h.call('PATCH', `/v1/users/${t.id}`, { token: caller.token, body: { password: 'a password I now know' } }),
    );
    expectProblem(res, 403);
    expect(await h.query('select name from users where id = $1', [t.id])).toEqual([{ name: 'Before' }]);
  });

  it('a permission added to a role the target holds → the change waits, then 403', async () => {
    const caller = await callerWith(['users:write']);
    const role = await customRole(['users:write']);
    const t = await target([role]);
    const before = await h.query('select count(*)::int as n from mfa_factors where user_id = $1', [t.id]);
    const res = await behind(
      (tx) => tx.query(`insert into role_permissions (role_id, permission) select id, 'audit:read' from roles where name = $1`, [role]),
      () => h.call('DELETE', `/v1/users/${t.id}/mfa`, { token: caller.token }),
    );
    expectProblem(res, 403);
    expect(await h.query('select count(*)::int as n from mfa_factors where user_id = $1', [t.id])).toEqual(before);
  });

  it('a role’s grants being replaced as PATCH /v1/roles does (the role row updated, then the grants) → 403', async () => {
    const caller = await callerWith(['users:write']);
    const role = await customRole(['users:write']);
    const t = await target([role]);
    const res = await behind(
      (tx) => tx.query(`update roles set description = 'x' where name = $1`, [role]).then(() =>
        tx.query(`insert into role_permissions (role_id, permission) select id, 'audit:read' from roles where name = $1`, [role])),
      () => h.call('DELETE', `/v1/users/${t.id}/sessions`, { token: caller.token }),
    );
    expectProblem(res, 403);
  });

  it('a role taken from the target meanwhile → the change waits, then goes through', async () => {
    const caller = await callerWith(['users:write']);
    const t = await createUser(h, { roles: ['admin', 'viewer'], name: 'Before' });
    await createUser(h, { roles: ['admin'] });
    const res = await behind(
      (tx) => tx.query(`delete from users_roles where user_id = $1 and role_id = (select id from roles where name = 'admin')`, [t.id]),
      () => h.call('PATCH', `/v1/users/${t.id}`, { token: caller.token, body: { name: 'After' } }),
    );
    expect(res.status).toBe(200);
    expect(await h.query('select name from users where id = $1', [t.id])).toEqual([{ name: 'After' }]);
  });

  it('a role deleted behind a permission added to it: the delete waits, then 403', async () => {
    const caller = await callerWith(['roles:write', 'stats:read']);
    const role = await customRole(['stats:read']);
    const res = await behind(
      (tx) => tx.query(`insert into role_permissions (role_id, permission) select id, 'audit:read' from roles where name = $1`, [role]),
      () => h.call('DELETE', `/v1/roles/${role}`, { token: caller.token }),
    );
    expectProblem(res, 403);
    expect(await h.query('select 1 from roles where name = $1', [role])).toHaveLength(1);
  });

  it('racing for real: a takeover racing a promotion either happened before it or was refused', async () => {
    for (let round = 0; round < 4; round++) {
      const caller = await callerWith(['users:write']);
      const t = await createUser(h, { name: 'Before' });
      const [write, promote] = await Promise.all([
        h.call('PATCH', `/v1/users/${t.id}`, { token: caller.token, body: { name: `After ${round}` } }),
        h.call('PUT', `/v1/users/${t.id}/roles/admin`, { token: admin }),
      ]);
      expect(promote.status).toBe(204);
      expect([200, 403]).toContain(write.status);
      const [row] = await h.query<{ name: string }>('select name from users where id = $1', [t.id]);
      expect(row!.name).toBe(write.status === 200 ? `After ${round}` : 'Before');
      await refused(() => h.call('PATCH', `/v1/users/${t.id}`, { token: caller.token, body: { name: 'Later' } }));
    }
  });
});
