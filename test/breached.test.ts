/**
 * Breached passwords (ASVS 6.2.12) against the local stand-in of Have I Been Pwned (scripts/stand-ins/hibp.ts, started
 * by the global setup): every place a person chooses a password refuses a known one with a 422 and changes nothing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { expectInvalid } from './expect';
import { createHarness, createUser, signIn, tokenFromMailbox, uniqueEmail, userWithToken, type Harness } from './harness';

const BREACHED = 'breached password example';
const FRESH = 'a password nobody has leaked yet';

let h: Harness;
let admin: Awaited<ReturnType<typeof userWithToken>>;
beforeAll(async () => {
  h = await createHarness();
  admin = await userWithToken(h, ['admin']);
});
afterAll(() => h.drop());
afterEach(() => vi.restoreAllMocks());

const fingerprint = () =>
  h.query(`select (select count(*) from users)::int as users, (select count(*) from audit_events)::int as audit,
                  (select string_agg(hashed_password, ',' order by id) from users) as hashes`);

describe('a breached password is a 422 and changes nothing', () => {
  it('sign-up', async () => {
    const before = await fingerprint();
    const email = uniqueEmail('pwned');
    const res = await h.call('POST', '/v1/auth/register', { body: { name: 'P', email, password: BREACHED } });
    expectInvalid(res, 'password');
    expect(res.body.errors[0].message).toMatch(/breach/);
    expect(res.statements).toBe(0);
    expect(await fingerprint()).toEqual(before);
    expect((await h.call('POST', '/v1/auth/register', { body: { name: 'P', email, password: FRESH } })).status).toBe(201);
  });

  it('an admin creating a user', async () => {
    const before = await fingerprint();
    const res = await h.call('POST', '/v1/users', { token: admin.token, body: { name: 'P', email: uniqueEmail('pwned'), password: BREACHED } });
    expectInvalid(res, 'password');
    expect(await fingerprint()).toEqual(before);
  });

  it('an admin setting a password', async () => {
    const user = await createUser(h);
    const before = await fingerprint();
    const res = await h.call('PATCH', `/v1/users/${user.id}`, { token: admin.token, body: { password: 'password123456' } });
    expectInvalid(res, 'password');
    expect(await fingerprint()).toEqual(before);
    expect((await h.call('PATCH', `/v1/users/${user.id}`, { token: admin.token, body: { name: 'No password given' } })).status).toBe(200);
  });

  it('changing one’s own password (path newPassword), after the current one is verified', async () => {
    const user = await createUser(h);
    const { accessToken } = await signIn(h, user);
    const before = await fingerprint();
    const res = await h.call('POST', '/v1/me/password', { token: accessToken, body: { currentPassword: user.password, newPassword: BREACHED } });
    expectInvalid(res, 'newPassword');
    expect(await fingerprint()).toEqual(before);
    // A wrong current password is still a 401 first.
    const wrong = await h.call('POST', '/v1/me/password', { token: accessToken, body: { currentPassword: 'not the password', newPassword: BREACHED } });
    expect(wrong.status).toBe(401);
  });

  it('accepting an invitation: refused before the link is spent, which then still works', async () => {
    const email = uniqueEmail('invited');
    expect((await h.call('POST', '/v1/users', { token: admin.token, body: { name: 'I', email } })).status).toBe(201);
    const token = await tokenFromMailbox(h, email, 'accept-invitation');
    const before = await fingerprint();
    const res = await h.call('POST', '/v1/auth/invitation/accept', { body: { token, password: BREACHED } });
    expectInvalid(res, 'password');
    expect(res.statements).toBe(0);
    expect(await fingerprint()).toEqual(before);
    expect((await h.call('POST', '/v1/auth/invitation/accept', { body: { token, password: FRESH } })).status).toBe(200);
  });

  it('resetting a forgotten password (path newPassword): refused before the link is spent', async () => {
    const user = await createUser(h);
    expect((await h.call('POST', '/v1/auth/password/forgot', { body: { email: user.email } })).status).toBe(202);
    const token = await tokenFromMailbox(h, user.email, 'reset-password');
    const before = await fingerprint();
    const res = await h.call('POST', '/v1/auth/password/reset', { body: { token, newPassword: BREACHED } });
    expectInvalid(res, 'newPassword');
    expect(res.statements).toBe(0);
    expect(await fingerprint()).toEqual(before);
    expect((await h.call('POST', '/v1/auth/password/reset', { body: { token, newPassword: FRESH } })).status).toBe(204);
  });

  it('the check applies to the normalised text (NFC), as the hash does', async () => {
    const res = await h.call('POST', '/v1/auth/register', { body: { name: 'P', email: uniqueEmail('pwned'), password: BREACHED.normalize('NFD') } });
    expectInvalid(res, 'password');
  });

  it('signing in with an old password that is breached still works (only new passwords are checked)', async () => {
    const user = await createUser(h, { password: BREACHED });
    expect((await h.call('POST', '/v1/auth/login', { body: { email: user.email, password: BREACHED } })).status).toBe(200);
  });
});

describe('when the service cannot answer, the password is accepted and one line is logged', () => {
  const cases = [
    ['unreachable', () => ({ HIBP_URL: 'http://127.0.0.1:1/range/' })],
    ['answering 503', () => ({ HIBP_URL: h.env.TEST_HIBP_DOWN_URL })],
    ['slower than HIBP_TIMEOUT_MS', () => ({ HIBP_URL: h.env.TEST_HIBP_SLOW_URL, HIBP_TIMEOUT_MS: '200' })],
  ] as const;
  it.each(cases)('%s', async (_, overrides) => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const started = Date.now();
    const res = await h.with(overrides()).call('POST', '/v1/auth/register', { body: { name: 'P', email: uniqueEmail('down'), password: BREACHED } });
    expect(res.status).toBe(201);
    expect(Date.now() - started).toBeLessThan(4_000);
    const lines = warn.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('breached-password check unavailable'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(BREACHED);
  });

  it('HIBP_ENABLED=false skips the check', async () => {
    const res = await h.with({ HIBP_ENABLED: 'false' }).call('POST', '/v1/auth/register', { body: { name: 'P', email: uniqueEmail('off'), password: BREACHED } });
    expect(res.status).toBe(201);
  });
});
