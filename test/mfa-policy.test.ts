/**
 * MFA_REQUIRED_ROLES (contract §10), enforced by the caller check every guarded statement carries: a holder of a
 * listed role whose session lacks `otp` gets 403 `mfa-enrolment-required` on a read, a write and an admin route, but
 * can still reach /v1/me, /v1/me/password, /v1/me/mfa… and /v1/auth/…, enrol, sign in again with the code, and pass.
 */
import { Secret } from 'otpauth/bare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, createUser, signIn, userWithToken, type Harness } from './harness';
import { claims, passwordStep, secondStep, totp } from './mfa-helpers';

let base: Harness;
let h: Harness;
beforeAll(async () => {
  base = await createHarness();
  h = base.with({ MFA_REQUIRED_ROLES: 'admin, analyst' });
});
afterAll(() => base.drop());

const enrolmentRequired = (res: { status: number; body: any }) => {
  expect(res.status).toBe(403);
  expect(res.body.type).toBe('https://dashboard-analytics.dev/problems/mfa-enrolment-required');
  expect(res.body.detail).toMatch(/\/v1\/me\/mfa\/totp/);
};

describe('MFA_REQUIRED_ROLES', () => {
  it('refuses a password-only session of a listed role on reads, writes and admin routes, and lets it enrol', async () => {
    const admin = await createUser(h, { roles: ['admin'] });
    const target = await createUser(h);
    const pair = await signIn(h, admin);
    expect(claims(pair.accessToken).amr).toEqual(['pwd']);
    const token = pair.accessToken;

    enrolmentRequired(await h.call('GET', '/v1/users', { token }));
    enrolmentRequired(await h.call('GET', '/v1/stats/overview', { token }));
    enrolmentRequired(await h.call('PATCH', `/v1/users/${target.id}`, { token, body: { name: 'Changed' } }));
    enrolmentRequired(await h.call('DELETE', `/v1/users/${target.id}/mfa`, { token }));
    enrolmentRequired(await h.call('GET', '/v1/me/sessions', { token }));
    expect((await base.query<{ name: string }>('select name from users where id = $1', [target.id]))[0]!.name).toBe('Test User');

    // The exempt paths: the caller, the password, the factor itself, and sign-in.
    expect((await h.call('GET', '/v1/me', { token })).status).toBe(200);
    const start = await h.call('POST', '/v1/me/mfa/totp', { token, body: { currentPassword: admin.password } });
    expect(start.status).toBe(200);
    const secret = Secret.fromBase32(start.body.secret).bytes;
    expect((await h.call('POST', '/v1/me/mfa/totp/confirm', { token, body: { code: totp(secret) } })).status).toBe(200);
    // Enrolled, but this session was still opened with the password alone: the refreshed token says so too.
    enrolmentRequired(await h.call('GET', '/v1/users', { token }));
    const refreshed = await h.call('POST', '/v1/auth/refresh', { body: { refreshToken: pair.refreshToken } });
    enrolmentRequired(await h.call('GET', '/v1/users', { token: refreshed.body.accessToken }));

    // Signing in again with the second factor passes the policy everywhere.
    const done = await secondStep(h, { mfaToken: await passwordStep(h, admin), code: totp(secret, 1) });
    expect(done.status).toBe(200);
    const strong = done.body.accessToken;
    expect((await h.call('GET', '/v1/users', { token: strong })).status).toBe(200);
    expect((await h.call('PATCH', `/v1/users/${target.id}`, { token: strong, body: { name: 'Changed' } })).status).toBe(200);
    expect((await h.call('GET', '/v1/me/sessions', { token: strong })).status).toBe(200);
    expect((await h.call('POST', '/v1/auth/refresh', { body: { refreshToken: done.body.refreshToken } })).status).toBe(200);
  });

  it('leaves roles that are not listed alone, and follows the roles held now', async () => {
    const viewer = await userWithToken(h, ['viewer']);
    expect((await h.call('GET', '/v1/me/sessions', { token: viewer.token })).status).toBe(200);
    expect((await h.call('GET', '/v1/permissions', { token: viewer.token })).status).toBe(200);
    // Given a listed role behind the API's back (no session revoked), the same token is refused at once.
    await base.query(`insert into users_roles (user_id, role_id) select $1, id from roles where name = 'analyst'`, [viewer.id]);
    enrolmentRequired(await h.call('GET', '/v1/users', { token: viewer.token }));
    enrolmentRequired(await h.call('GET', '/v1/me/sessions', { token: viewer.token }));
  });

  it('is off by default', async () => {
    const admin = await userWithToken(base, ['admin']);
    expect((await base.call('GET', '/v1/users', { token: admin.token })).status).toBe(200);
  });
});
