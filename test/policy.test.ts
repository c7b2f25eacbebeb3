/**
 * The review's findings on tokens and self-service, and the MFA policy of contract §10 as the caller check applies it.
 */
import { importJWK, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_TOKEN_ROLES } from '../src/auth/jwt';
import { expectProblem } from './expect';
import { createHarness, createUser, signIn, type Harness } from './harness';

let h: Harness;
let admin: { id: number; token: string };
beforeAll(async () => {
  h = await createHarness();
  const user = await createUser(h, { roles: ['admin'] });
  admin = { id: user.id, token: (await signIn(h, user)).accessToken };
});
afterAll(() => h.drop());

const claims = (token: string) => JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')));

describe('PATCH /v1/users/:id on oneself', () => {
  it('refuses one’s own password or email (403 use-self-service, nothing changes) and allows the rest', async () => {
    const user = await createUser(h, { roles: ['admin'], name: 'Self' });
    const token = (await signIn(h, user)).accessToken;
    const [before] = await h.query('select email, hashed_password from users where id = $1', [user.id]);
    for (const body of [{ password: 'a new long passphrase' }, { email: 'new-me@example.com' }, { name: 'X', email: 'x@example.com' }]) {
      const res = await h.call('PATCH', `/v1/users/${user.id}`, { token, body });
      expectProblem(res, 403);
      expect(res.body.type).toMatch(/use-self-service$/);
      expect(res.body.detail).toContain('/v1/me/password');
    }
    expect(await h.query('select email, hashed_password from users where id = $1', [user.id])).toEqual([before]);
    expect((await h.call('PATCH', `/v1/users/${user.id}`, { token, body: { name: 'Renamed' } })).body.name).toBe('Renamed');
    // Another user's password and email an admin still sets.
    const other = await createUser(h);
    expect((await h.call('PATCH', `/v1/users/${other.id}`, { token, body: { email: 'set-by-admin@example.com' } })).status).toBe(200);
  });

  it('a caller without users:write still gets 403 forbidden first', async () => {
    const user = await createUser(h, { roles: ['viewer'] });
    const token = (await signIn(h, user)).accessToken;
    const res = await h.call('PATCH', `/v1/users/${user.id}`, { token, body: { password: 'a new long passphrase' } });
    expectProblem(res, 403);
    expect(res.body.type).toMatch(/forbidden$/);
  });
});

describe('token size with many roles', () => {
  it('keeps the token small: the roles claim is left out past the bound; the database decides anyway', async () => {
    const names = Array.from({ length: 120 }, (_, i) => `r${i}-${'x'.repeat(44)}`.slice(0, 50));
    await h.query(`insert into roles (name) select unnest($1::text[])`, [names]);
    const many = await createUser(h, { roles: [...names, 'analyst'] });
    const pair = await signIn(h, many);
    expect(pair.accessToken.length).toBeLessThan(1024);
    expect(claims(pair.accessToken).roles).toBeUndefined();
    expect(pair.user.roles).toHaveLength(121);
    const me = await h.call('GET', '/v1/me', { token: pair.accessToken });
    expect(me.status).toBe(200);
    expect(me.body.permissions).toEqual(['dashboards:write', 'events:read', 'roles:read', 'stats:read', 'users:read']);
    expect((await h.call('GET', '/v1/users', { token: pair.accessToken })).status).toBe(200);
    // The refreshed token too.
    const refreshed = await h.call('POST', '/v1/auth/refresh', { body: { refreshToken: pair.refreshToken } });
    expect(refreshed.status).toBe(200);
    expect(claims(refreshed.body.accessToken).roles).toBeUndefined();

    // Within the bound the claim is there, as the contract lists it.
    const few = await createUser(h, { roles: names.slice(0, MAX_TOKEN_ROLES) });
    const token = (await signIn(h, few)).accessToken;
    expect(claims(token).roles).toHaveLength(MAX_TOKEN_ROLES);
    expect(token.length).toBeLessThan(2048);
  });

  it('carries sid and amr ["pwd"] for a password sign-in, kept across refresh', async () => {
    const user = await createUser(h);
    const pair = await signIn(h, user);
    expect(claims(pair.accessToken)).toMatchObject({ amr: ['pwd'], sid: expect.any(String), sub: String(user.id) });
    const refreshed = await h.call('POST', '/v1/auth/refresh', { body: { refreshToken: pair.refreshToken } });
    expect(claims(refreshed.body.accessToken).amr).toEqual(['pwd']);
    // The session records it; a session made with a second factor refreshes as one.
    await h.query(`update sessions set amr = '{pwd,otp}' where id = $1`, [claims(pair.accessToken).sid]);
    const again = await h.call('POST', '/v1/auth/refresh', { body: { refreshToken: refreshed.body.refreshToken } });
    expect(claims(again.body.accessToken).amr).toEqual(['pwd', 'otp']);
  });
});

describe('MFA_REQUIRED_ROLES (contract §10)', () => {
  let m: Harness;
  beforeAll(() => {
    m = h.with({ MFA_REQUIRED_ROLES: 'admin, auditor' });
  });

  /** A token for a live session with the given `amr`, signed with the Worker's key. */
  async function tokenWith(user: { id: number; email: string; password: string }, amr: string[]) {
    const { sid } = claims((await signIn(m, user)).accessToken);
    const jwk = JSON.parse(h.env.JWT_PRIVATE_KEY!) as JWK & { kid: string };
    return new SignJWT({ sid, amr })
      .setProtectedHeader({ alg: 'EdDSA', kid: jwk.kid })
      .setIssuer(h.env.JWT_ISSUER ?? 'dashboard-analytics-api')
      .setAudience(h.env.JWT_AUDIENCE ?? 'dashboard-analytics')
      .setSubject(String(user.id))
      .setIssuedAt()
      .setExpirationTime('10m')
      .setJti(crypto.randomUUID())
      .sign(await importJWK(jwk, 'EdDSA'));
  }

  it('refuses a holder of a listed role without otp everywhere but /v1/me, /v1/me/password, /v1/me/mfa… and /v1/auth/…', async () => {
    const user = await createUser(m, { roles: ['admin'] });
    const token = (await signIn(m, user)).accessToken;
    for (const [method, path] of [['GET', '/v1/users'], ['GET', '/v1/me/sessions'], ['GET', '/v1/permissions'], ['GET', '/v1/stats/overview']]) {
      const res = await m.call(method!, path!, { token });
      expectProblem(res, 403);
      expect(res.body.type, path).toMatch(/mfa-enrolment-required$/);
      expect(res.statements).toBe(1);
    }
    // A refused write changes nothing.
    const victim = await createUser(m, { name: 'Kept' });
    expectProblem(await m.call('PATCH', `/v1/users/${victim.id}`, { token, body: { name: 'Changed' } }), 403);
    expect(await m.query('select name from users where id = $1', [victim.id])).toEqual([{ name: 'Kept' }]);
    // The exempt routes.
    expect((await m.call('GET', '/v1/me', { token })).status).toBe(200);
    expectProblem(await m.call('POST', '/v1/me/password', { token, body: { currentPassword: 'wrong', newPassword: 'long enough password' } }), 401);
    expect((await m.call('POST', '/v1/auth/logout-all', { token })).status).toBe(204);
  });

  it('lets the same caller through with otp, and callers without a listed role always', async () => {
    const user = await createUser(m, { roles: ['admin'] });
    expect((await m.call('GET', '/v1/users', { token: await tokenWith(user, ['pwd', 'otp']) })).status).toBe(200);
    const analyst = await createUser(m, { roles: ['analyst'] });
    expect((await m.call('GET', '/v1/users', { token: (await signIn(m, analyst)).accessToken })).status).toBe(200);
    // Default: nobody is asked.
    const plain = (await signIn(h, user)).accessToken;
    expect((await h.call('GET', '/v1/users', { token: plain })).status).toBe(200);
  });

  it('judges the roles held now: granting a listed role applies the policy at once', async () => {
    const user = await createUser(m, { roles: ['analyst'] });
    await m.query(`insert into roles (name) values ('auditor') on conflict do nothing`);
    const token = await tokenWith(user, ['pwd']);
    expect((await m.call('GET', '/v1/users', { token })).status).toBe(200);
    // Straight in the database, so no session is revoked: only the policy can refuse now.
    await m.query(`insert into users_roles (user_id, role_id) select $1, id from roles where name = 'auditor'`, [user.id]);
    const res = await m.call('GET', '/v1/users', { token });
    expectProblem(res, 403);
    expect(res.body.type).toMatch(/mfa-enrolment-required$/);
  });
});
