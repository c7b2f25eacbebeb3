/**
 * Decisions against the present state under concurrency: a demotion racing a write (the write commits before it or
 * is refused, never after), a password change racing a sign-in, two refreshes of one token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../src/auth/password';
import { expectProblem } from './expect';
import { callerWith } from './custom-roles';
import { createHarness, createUser, signIn, type Harness } from './harness';
import { openTransaction, someoneWaitsForALock } from './lock-wait';

let h: Harness;
let admin: string;
beforeAll(async () => {
  h = await createHarness();
  admin = (await signIn(h, await createUser(h, { roles: ['admin'] }))).accessToken;
});
afterAll(() => h.drop());

const sid = (token: string) => JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))).sid as string;

const customCaller = (permissions: string[]) => callerWith(h, permissions);

describe('a demotion racing a write', () => {
  it('a write behind an uncommitted session revocation waits for it, then is refused (401) and changes nothing', async () => {
    const c = await customCaller(['users:write']);
    const victim = await createUser(h, { name: 'Before' });
    const tx = await openTransaction(h);
    try {
      await tx.query(`update sessions set revoked_at = now() where id = $1`, [sid(c.token)]);
      const write = h.call('PATCH', `/v1/users/${victim.id}`, { token: c.token, body: { name: 'After' } });
      await someoneWaitsForALock(h);
      await tx.query('commit');
      expectProblem(await write, 401);
    } finally {
      await tx.end();
    }
    expect(await h.query('select name from users where id = $1', [victim.id])).toEqual([{ name: 'Before' }]);
  });

  it('a write behind an uncommitted permission removal waits for it, then is refused (403) and changes nothing', async () => {
    const c = await customCaller(['users:write', 'stats:read']);
    const victim = await createUser(h, { name: 'Before' });
    const tx = await openTransaction(h);
    try {
      await tx.query(
        `delete from role_permissions where role_id = (select id from roles where name = $1) and permission = 'users:write'`,
        [c.role],
      );
      const write = h.call('DELETE', `/v1/users/${victim.id}`, { token: c.token });
      await someoneWaitsForALock(h);
      await tx.query('commit');
      expectProblem(await write, 403);
    } finally {
      await tx.end();
    }
    expect(await h.query('select name from users where id = $1', [victim.id])).toEqual([{ name: 'Before' }]);
  });

  it('a rolled-back demotion lets the waiting write through', async () => {
    const c = await customCaller(['users:write']);
    const victim = await createUser(h, { name: 'Before' });
    const tx = await openTransaction(h);
    try {
      await tx.query(`update sessions set revoked_at = now() where id = $1`, [sid(c.token)]);
      const write = h.call('PATCH', `/v1/users/${victim.id}`, { token: c.token, body: { name: 'After' } });
      await someoneWaitsForALock(h);
      await tx.query('rollback');
      expect((await write).status).toBe(200);
    } finally {
      await tx.end();
    }
  });

  it('a demotion behind a write in progress waits until the write has committed', async () => {
    // The write's statement holds the caller's session row FOR NO KEY UPDATE until it commits; a revocation needs it.
    // Held here by a transaction that does what the write's caller check does, the revocation must wait.
    const c = await customCaller(['users:write']);
    const tx = await openTransaction(h);
    try {
      await tx.query(`select 1 from sessions where id = $1 for no key update`, [sid(c.token)]);
      const revoke = h.call('DELETE', `/v1/users/${c.id}/sessions`, { token: admin });
      await someoneWaitsForALock(h);
      await tx.query('commit');
      expect((await revoke).status).toBe(204);
    } finally {
      await tx.end();
    }
    expectProblem(await h.call('GET', '/v1/me', { token: c.token }), 401);
  });

  it('reads take no row locks: a read is not held up by an uncommitted revocation', async () => {
    const c = await customCaller(['users:read']);
    const tx = await openTransaction(h);
    try {
      await tx.query(`update sessions set revoked_at = now() where id = $1`, [sid(c.token)]);
      expect((await h.call('GET', '/v1/users', { token: c.token })).status).toBe(200);
      await tx.query('commit');
      expectProblem(await h.call('GET', '/v1/users', { token: c.token }), 401);
    } finally {
      await tx.end();
    }
  });

  it('racing for real: each write either committed before the demotion or was refused', async () => {
    for (let round = 0; round < 4; round++) {
      const c = await customCaller(['users:write']);
      const victim = await createUser(h, { name: 'Before' });
      const [write, demote] = await Promise.all([
        h.call('PATCH', `/v1/users/${victim.id}`, { token: c.token, body: { name: `After ${round}` } }),
        h.call('PATCH', `/v1/roles/${c.role}`, { token: admin, body: { permissions: [] } }),
      ]);
      expect(demote.status).toBe(200);
      expect([200, 403]).toContain(write.status);
      const [row] = await h.query<{ name: string }>('select name from users where id = $1', [victim.id]);
      expect(row!.name).toBe(write.status === 200 ? `After ${round}` : 'Before');
      // Whatever happened, from now on the caller is refused.
      expectProblem(await h.call('PATCH', `/v1/users/${victim.id}`, { token: c.token, body: { name: 'Later' } }), 403);
    }
  });
});

describe('sign-in against a concurrent password change (compare-and-set on the hash)', () => {
  it('creates no session and does not re-hash when the password changed after it was verified', async () => {
    // Old parameters, so the sign-in would also re-hash.
    const user = await createUser(h);
    await h.query(`update users set hashed_password = $2 where id = $1`, [user.id, await hashPassword(user.password, 'N=512,r=8,p=1')]);
    const sessionsBefore = await h.query('select id from sessions where user_id = $1', [user.id]);
    const newHash = await hashPassword('the password set meanwhile', 'N=1024,r=8,p=1');
    const tx = await openTransaction(h);
    let login: ReturnType<Harness['call']>;
    try {
      // Holds the user row: the sign-in reads and verifies the old hash, then its write waits here.
      await tx.query('select 1 from users where id = $1 for update', [user.id]);
      login = h.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password } });
      await someoneWaitsForALock(h);
      await tx.query('update users set hashed_password = $2 where id = $1', [user.id, newHash]);
      await tx.query('commit');
    } finally {
      await tx.end();
    }
    expectProblem(await login, 401);
    expect(await h.query('select hashed_password from users where id = $1', [user.id])).toEqual([{ hashed_password: newHash }]);
    expect(await h.query('select id from sessions where user_id = $1', [user.id])).toEqual(sessionsBefore);
  });
});

describe('two refreshes of one token at once', () => {
  it('the loser is reuse: the session (and the winner’s new tokens) is revoked and audited', async () => {
    const user = await createUser(h);
    const pair = await signIn(h, user);
    const results = await Promise.all(
      Array.from({ length: 6 }, () => h.call('POST', '/v1/auth/refresh', { body: { refreshToken: pair.refreshToken } })),
    );
    const winners = results.filter((r) => r.status === 200);
    expect(winners.length).toBeLessThanOrEqual(1);
    expect(results.filter((r) => r.status === 401)).toHaveLength(results.length - winners.length);
    expect(await h.query('select revoked_at is not null as revoked from sessions where id = $1', [sid(pair.accessToken)])).toEqual([{ revoked: true }]);
    const audited = await h.query(`select 1 from audit_events where action = 'auth.refresh_reuse' and target_id = $1`, [sid(pair.accessToken)]);
    expect(audited.length).toBeGreaterThanOrEqual(1);
    for (const w of winners) {
      expectProblem(await h.call('POST', '/v1/auth/refresh', { body: { refreshToken: w.body.refreshToken } }), 401);
      expectProblem(await h.call('GET', '/v1/me', { token: w.body.accessToken }), 401);
    }
  });
});
