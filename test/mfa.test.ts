/**
 * Contract §10 from outside: enrolment, the two-step sign-in, recovery codes, disable, the admin reset, and what
 * is stored (sealed secret, hashed codes). Replay, drift, brute force and races are in mfa-attacks.test.ts.
 */
import { Secret } from 'otpauth/bare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectWithinBudget } from './budgets';
import { createUser, createHarness, mailbox, signIn, userWithToken, type Harness } from './harness';
import { claims, enrolled, forgetSteps, midStep, passwordStep, secondStep, totp } from './mfa-helpers';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.drop());

const refresh = (refreshToken: string) => h.call('POST', '/v1/auth/refresh', { body: { refreshToken } });
const me = (token: string) => h.call('GET', '/v1/me', { token });
const auditOf = (userId: number, action: string) =>
  h.query<{ actor_id: number | null; details: any }>(
    `select actor_id, details from audit_events where action = $1 and target_id = $2 order by id`,
    [action, String(userId)],
  );
const factorRow = (userId: number) =>
  h.query<{ secret: Buffer; key_id: string; enabled_at: string | null; last_step: string | null }>(
    'select secret, key_id, enabled_at, last_step from mfa_factors where user_id = $1',
    [userId],
  );

describe('enrolment: POST /v1/me/mfa/totp and /confirm', () => {
  it('starts with the password, answers a secret and an otpauth URI, and stores the secret sealed', async () => {
    const user = await userWithToken(h);
    const wrong = await h.call('POST', '/v1/me/mfa/totp', { token: user.token, body: { currentPassword: 'not the password' } });
    expect(wrong.status).toBe(401);
    expect(await factorRow(user.id)).toHaveLength(0);

    const res = await h.call('POST', '/v1/me/mfa/totp', { token: user.token, body: { currentPassword: user.password } });
    expect(res.status).toBe(200);
    expectWithinBudget('POST /v1/me/mfa/totp', res);
    expect(Object.keys(res.body).sort()).toEqual(['expiresIn', 'otpauthUri', 'secret']);
    expect(res.body.expiresIn).toBe(600);
    expect(res.body.secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(res.body.otpauthUri);
    expect(res.body.otpauthUri.startsWith('otpauth://totp/Dashboard%20Analytics:')).toBe(true);
    expect(decodeURIComponent(res.body.otpauthUri)).toContain(user.email);
    expect(uri.searchParams.get('secret')).toBe(res.body.secret);
    expect(uri.searchParams.get('algorithm')).toBe('SHA1');
    expect(uri.searchParams.get('digits')).toBe('6');
    expect(uri.searchParams.get('period')).toBe('30');

    const [row] = await factorRow(user.id);
    const raw = Secret.fromBase32(res.body.secret).bytes;
    expect(row!.enabled_at).toBeNull();
    expect(row!.key_id).toBe(h.env.MFA_ENCRYPTION_KEY!.split(':')[0]);
    expect(row!.secret).toHaveLength(12 + 20 + 16);
    expect(Buffer.from(row!.secret).includes(Buffer.from(raw))).toBe(false);
    expect(Buffer.from(row!.secret).toString('latin1')).not.toContain(res.body.secret);
    // Not enabled until confirmed: the user signs in with the password alone, and says mfaEnabled: false.
    expect((await me(user.token)).body.mfaEnabled).toBe(false);
    expect((await h.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password } })).status).toBe(200);
  });

  it('confirms with a code: 10 recovery codes, mfaEnabled, other sessions revoked, audited, a notice sent', async () => {
    const user = await createUser(h);
    const current = await signIn(h, user);
    const other = await signIn(h, user);
    const start = await h.call('POST', '/v1/me/mfa/totp', { token: current.accessToken, body: { currentPassword: user.password } });
    const secret = Secret.fromBase32(start.body.secret).bytes;

    const wrong = await h.call('POST', '/v1/me/mfa/totp/confirm', { token: current.accessToken, body: { code: totp(secret, 5) } });
    expect(wrong.status).toBe(422);
    expect(wrong.body.errors).toEqual([{ path: 'code', message: expect.any(String) }]);
    const malformed = await h.call('POST', '/v1/me/mfa/totp/confirm', { token: current.accessToken, body: { code: '12345' } });
    expect(malformed.status).toBe(422);
    expect(malformed.body.errors[0].path).toBe('code');
    expect((await factorRow(user.id))[0]!.enabled_at).toBeNull();

    const res = await h.call('POST', '/v1/me/mfa/totp/confirm', { token: current.accessToken, body: { code: totp(secret) } });
    expect(res.status).toBe(200);
    expectWithinBudget('POST /v1/me/mfa/totp/confirm', res);
    expect(res.body.recoveryCodes).toHaveLength(10);
    expect(new Set(res.body.recoveryCodes).size).toBe(10);
    for (const code of res.body.recoveryCodes) expect(code).toMatch(/^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/);

    expect((await me(current.accessToken)).body.mfaEnabled).toBe(true);
    expect((await refresh(other.refreshToken)).status).toBe(401);
    expect((await refresh(current.refreshToken)).status).toBe(200);
    // Only hashes are stored.
    const stored = await h.query<{ code_hash: Buffer }>('select code_hash from mfa_recovery_codes where user_id = $1', [user.id]);
    expect(stored).toHaveLength(10);
    const dump = JSON.stringify(await h.query('select * from mfa_recovery_codes where user_id = $1', [user.id]));
    for (const code of res.body.recoveryCodes) {
      expect(dump).not.toContain(code);
      expect(dump).not.toContain(code.replace(/-/g, ''));
    }
    expect(await auditOf(user.id, 'mfa.enable')).toEqual([{ actor_id: user.id, details: { method: 'totp' } }]);
    const [notice] = await mailbox(h, user.email);
    expect(notice!.subject).toMatch(/two-step sign-in was turned on/i);

    // Already on: both steps refuse with 409.
    const again = await h.call('POST', '/v1/me/mfa/totp', { token: current.accessToken, body: { currentPassword: user.password } });
    expect(again.status).toBe(409);
    expect(again.body.type).toMatch(/mfa-enabled$/);
    expect((await h.call('POST', '/v1/me/mfa/totp/confirm', { token: current.accessToken, body: { code: totp(secret) } })).status).toBe(409);
  });

  it('a restarted enrolment replaces the pending secret; an expired one cannot be confirmed', async () => {
    const user = await userWithToken(h);
    const start = (token: string) => h.call('POST', '/v1/me/mfa/totp', { token, body: { currentPassword: user.password } });
    const first = Secret.fromBase32((await start(user.token)).body.secret).bytes;
    const second = Secret.fromBase32((await start(user.token)).body.secret).bytes;
    expect(first).not.toEqual(second);
    const stale = await h.call('POST', '/v1/me/mfa/totp/confirm', { token: user.token, body: { code: totp(first) } });
    expect(stale.status).toBe(422);

    await h.query(`update mfa_factors set created_at = now() - interval '601 seconds' where user_id = $1`, [user.id]);
    const expired = await h.call('POST', '/v1/me/mfa/totp/confirm', { token: user.token, body: { code: totp(second) } });
    expect(expired.status).toBe(409);
    expect(expired.body.type).toMatch(/mfa-not-enrolling$/);
    const never = await userWithToken(h);
    expect((await h.call('POST', '/v1/me/mfa/totp/confirm', { token: never.token, body: { code: '123456' } })).status).toBe(409);
  });
});

describe('sign-in in two steps', () => {
  it('the password step answers 202 with an mfaToken and no tokens; the code step a TokenPair with amr pwd+otp', async () => {
    const user = await enrolled(h);
    const sessionsBefore = await h.query('select id from sessions where user_id = $1', [user.id]);
    const step1 = await h.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password } });
    expect(step1.status).toBe(202);
    expectWithinBudget('POST /v1/auth/login', step1);
    expect(step1.body).toEqual({ mfaRequired: true, mfaToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), methods: ['totp', 'recovery'], expiresIn: 300 });
    expect(step1.text).not.toMatch(/accessToken|refreshToken/);
    expect(await h.query('select id from sessions where user_id = $1', [user.id])).toHaveLength(sessionsBefore.length);
    // Only the hash of the mfaToken is stored.
    expect(JSON.stringify(await h.query('select * from mfa_challenges where user_id = $1', [user.id]))).not.toContain(step1.body.mfaToken);

    const step2 = await secondStep(h, { mfaToken: step1.body.mfaToken, code: totp(user.secret) });
    expect(step2.status).toBe(200);
    expectWithinBudget('POST /v1/auth/mfa', step2);
    expect(step2.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, user: { id: user.id, mfaEnabled: true } });
    expect(step2.body.user.lastLoginAt).toEqual(expect.any(String));
    expect(claims(step2.body.accessToken).amr).toEqual(['pwd', 'otp']);
    expect((await me(step2.body.accessToken)).status).toBe(200);
    // Rotation keeps how the session was authenticated.
    const rotated = await refresh(step2.body.refreshToken);
    expect(claims(rotated.body.accessToken).amr).toEqual(['pwd', 'otp']);
    const [login] = (await auditOf(user.id, 'auth.login')).slice(-1);
    expect(login!.details).toMatchObject({ mfa: 'totp', sessionId: claims(step2.body.accessToken).sid });

    // The mfaToken dies after use.
    await forgetSteps(h, user.id);
    const reused = await secondStep(h, { mfaToken: step1.body.mfaToken, code: totp(user.secret) });
    expect(reused.status).toBe(401);
  });

  it('an account without a factor signs in at once with amr ["pwd"]', async () => {
    const user = await createUser(h);
    const pair = await signIn(h, user);
    expect(claims(pair.accessToken).amr).toEqual(['pwd']);
    expect(claims((await refresh(pair.refreshToken)).body.accessToken).amr).toEqual(['pwd']);
  });

  it('a wrong password for an account with a factor is a plain 401, with no challenge', async () => {
    const user = await enrolled(h);
    const res = await h.call('POST', '/v1/auth/login', { body: { email: user.email, password: 'wrong password here' } });
    expect(res.status).toBe(401);
    expect(await h.query('select 1 from mfa_challenges where user_id = $1', [user.id])).toHaveLength(0);
  });

  it('refuses a wrong code (401, audited), an unknown, expired or malformed mfaToken', async () => {
    const user = await enrolled(h);
    const mfaToken = await passwordStep(h, user);
    const wrong = await secondStep(h, { mfaToken, code: totp(user.secret, 10) });
    expect(wrong.status).toBe(401);
    expect(wrong.body.type).toMatch(/unauthorized$/);
    expect(await auditOf(user.id, 'auth.mfa_failed')).toEqual([{ actor_id: null, details: { reason: 'wrong_code', method: 'totp' } }]);
    expect((await secondStep(h, { mfaToken: 'x'.repeat(43), code: totp(user.secret) })).status).toBe(401);
    await h.query(`update mfa_challenges set expires_at = now() - interval '1 second' where user_id = $1`, [user.id]);
    expect((await secondStep(h, { mfaToken, code: totp(user.secret) })).status).toBe(401);

    const fresh = await passwordStep(h, user);
    for (const body of [{ mfaToken: fresh }, { mfaToken: fresh, code: totp(user.secret), recoveryCode: user.recoveryCodes[0] }, { mfaToken: fresh, code: 'abcdef' }, { mfaToken: fresh, code: '1234567' }]) {
      const res = await secondStep(h, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
    }
    // Validation failures do not count or spend the token.
    expect((await secondStep(h, { mfaToken: fresh, code: totp(user.secret) })).status).toBe(200);
  });

  it('recovery codes sign in once each, however they are typed', async () => {
    const user = await enrolled(h);
    const [first, second] = user.recoveryCodes;
    const ok = await secondStep(h, { mfaToken: await passwordStep(h, user), recoveryCode: first! });
    expect(ok.status).toBe(200);
    expect(claims(ok.body.accessToken).amr).toEqual(['pwd', 'otp']);
    expect((await secondStep(h, { mfaToken: await passwordStep(h, user), recoveryCode: first! })).status).toBe(401);
    const typed = ` ${second!.toUpperCase().replace(/-/g, ' ')} `;
    expect((await secondStep(h, { mfaToken: await passwordStep(h, user), recoveryCode: typed })).status).toBe(200);
    const used = await h.query<{ n: number }>('select count(*)::int as n from mfa_recovery_codes where user_id = $1 and used_at is not null', [user.id]);
    expect(used[0]!.n).toBe(2);
  });
});

describe('managing the factor', () => {
  it('regenerates recovery codes with a TOTP code: the old set dies, the new one works; a wrong code changes nothing', async () => {
    await midStep();
    const user = await enrolled(h);
    const wrong = await h.call('POST', '/v1/me/mfa/recovery-codes', { token: user.token, body: { code: totp(user.secret, 3) } });
    expect(wrong.status).toBe(401);
    expect(await auditOf(user.id, 'auth.mfa_failed')).toEqual([{ actor_id: user.id, details: { reason: 'wrong_code', during: 'recovery-codes' } }]);

    const res = await h.call('POST', '/v1/me/mfa/recovery-codes', { token: user.token, body: { code: totp(user.secret) } });
    expect(res.status).toBe(200);
    expectWithinBudget('POST /v1/me/mfa/recovery-codes', res);
    expect(res.body.recoveryCodes).toHaveLength(10);
    expect(res.body.recoveryCodes.some((c: string) => user.recoveryCodes.includes(c))).toBe(false);
    expect((await secondStep(h, { mfaToken: await passwordStep(h, user), recoveryCode: user.recoveryCodes[0]! })).status).toBe(401);
    expect((await secondStep(h, { mfaToken: await passwordStep(h, user), recoveryCode: res.body.recoveryCodes[0] })).status).toBe(200);
    expect(await h.query('select 1 from mfa_recovery_codes where user_id = $1', [user.id])).toHaveLength(10);
    // The code just used cannot be used again.
    expect((await h.call('POST', '/v1/me/mfa/recovery-codes', { token: user.token, body: { code: totp(user.secret) } })).status).toBe(401);
  });

  it('disables with the password and a code; a wrong one is a 401 and changes nothing', async () => {
    const user = await enrolled(h);
    const disable = (body: object) => h.call('POST', '/v1/me/mfa/disable', { token: user.token, body });
    expect((await disable({ currentPassword: 'not the password', code: totp(user.secret) })).status).toBe(401);
    expect((await disable({ currentPassword: user.password, code: totp(user.secret, 4) })).status).toBe(401);
    expect((await disable({ currentPassword: user.password, code: 'aaaa-bbbb-cccc-dddd' })).status).toBe(401);
    expect(await factorRow(user.id)).toHaveLength(1);
    expect((await me(user.token)).body.mfaEnabled).toBe(true);

    const res = await disable({ currentPassword: user.password, code: totp(user.secret) });
    expect(res.status).toBe(204);
    expectWithinBudget('POST /v1/me/mfa/disable', res);
    expect(await factorRow(user.id)).toHaveLength(0);
    expect(await h.query('select 1 from mfa_recovery_codes where user_id = $1', [user.id])).toHaveLength(0);
    expect((await me(user.token)).body.mfaEnabled).toBe(false);
    expect(await auditOf(user.id, 'mfa.disable')).toEqual([{ actor_id: user.id, details: { method: 'totp' } }]);
    expect((await mailbox(h, user.email))[0]!.subject).toMatch(/turned off/i);
    const pair = await signIn(h, user);
    expect(claims(pair.accessToken).amr).toEqual(['pwd']);
    expect((await disable({ currentPassword: user.password, code: totp(user.secret) })).status).toBe(409);
  });

  it('disables with a recovery code, and kills open sign-in challenges', async () => {
    const user = await enrolled(h);
    const pending = await passwordStep(h, user);
    const res = await h.call('POST', '/v1/me/mfa/disable', { token: user.token, body: { currentPassword: user.password, code: user.recoveryCodes[3] } });
    expect(res.status).toBe(204);
    expect(await auditOf(user.id, 'mfa.disable')).toEqual([{ actor_id: user.id, details: { method: 'recovery' } }]);
    expect((await secondStep(h, { mfaToken: pending, code: totp(user.secret) })).status).toBe(401);
  });

  it('needs a factor for recovery codes and disable (409) and a signed-in caller (401)', async () => {
    const user = await userWithToken(h);
    expect((await h.call('POST', '/v1/me/mfa/recovery-codes', { token: user.token, body: { code: '123456' } })).status).toBe(409);
    for (const [path, body] of [
      ['/v1/me/mfa/totp', { currentPassword: 'x' }],
      ['/v1/me/mfa/totp/confirm', { code: '123456' }],
      ['/v1/me/mfa/recovery-codes', { code: '123456' }],
      ['/v1/me/mfa/disable', { currentPassword: 'x', code: '123456' }],
    ] as const) {
      expect((await h.call('POST', path, { body })).status, path).toBe(401);
    }
  });
});

describe('DELETE /v1/users/:id/mfa (admin reset)', () => {
  it('removes the factor and revokes every session of the user; the user signs in with the password and can enrol again', async () => {
    const admin = await userWithToken(h, ['admin']);
    const viewer = await userWithToken(h);
    const user = await enrolled(h);
    const second = await secondStep(h, { mfaToken: await passwordStep(h, user), code: totp(user.secret) });

    expect((await h.call('DELETE', `/v1/users/${user.id}/mfa`, { token: viewer.token })).status).toBe(403);
    expect((await h.call('DELETE', `/v1/users/${user.id}/mfa`)).status).toBe(401);
    expect((await h.call('DELETE', '/v1/users/999999/mfa', { token: admin.token })).status).toBe(404);
    expect(await factorRow(user.id)).toHaveLength(1);

    const res = await h.call('DELETE', `/v1/users/${user.id}/mfa`, { token: admin.token });
    expect(res.status).toBe(204);
    expectWithinBudget('DELETE /v1/users/:id/mfa', res);
    expect(await factorRow(user.id)).toHaveLength(0);
    expect((await refresh(user.refreshToken)).status).toBe(401);
    expect((await refresh(second.body.refreshToken)).status).toBe(401);
    expect(await auditOf(user.id, 'mfa.reset')).toEqual([{ actor_id: admin.id, details: { enabled: true, sessions: 2 } }]);
    expect((await mailbox(h, user.email))[0]!.subject).toMatch(/reset by an administrator/i);

    const pair = await signIn(h, user);
    expect(claims(pair.accessToken).amr).toEqual(['pwd']);
    expect((await h.call('GET', `/v1/users/${user.id}`, { token: admin.token })).body.mfaEnabled).toBe(false);
    // Idempotent: nothing more to remove, no audit row, no session revoked.
    expect((await h.call('DELETE', `/v1/users/${user.id}/mfa`, { token: admin.token })).status).toBe(204);
    expect(await auditOf(user.id, 'mfa.reset')).toHaveLength(1);
    expect((await refresh(pair.refreshToken)).status).toBe(200);
    const again = await h.call('POST', '/v1/me/mfa/totp', { token: pair.accessToken, body: { currentPassword: user.password } });
    expect(again.status).toBe(200);
  });
});
