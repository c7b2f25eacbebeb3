/**
 * Contract §10 under attack: replay within a step, clock drift, guessing codes (the §3 lockout), races on one
 * code, an mfaToken past its limits, and the encryption key rotated under live factors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeAt, stepAt } from '../src/auth/mfa';
import { createHarness, userWithToken, type Harness } from './harness';
import { claims, enrolled, forgetSteps, midStep, passwordStep, secondStep, totp } from './mfa-helpers';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.drop());

const login = (user: { email: string; password: string }) => h.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password } });
const wrongCode = (secret: Uint8Array) => {
  const right = new Set([-1, 0, 1].map((d) => totp(secret, d)));
  for (let n = 0; ; n++) {
    const code = String(n).padStart(6, '0');
    if (!right.has(code)) return code;
  }
};

describe('replay', () => {
  it('a code is accepted once: the same code in the same 30-second step is refused on a second sign-in', async () => {
    await midStep();
    const user = await enrolled(h);
    const code = totp(user.secret);
    expect((await secondStep(h, { mfaToken: await passwordStep(h, user), code })).status).toBe(200);
    const replay = await secondStep(h, { mfaToken: await passwordStep(h, user), code });
    expect(replay.status).toBe(401);
    // …and an older code within the drift window is refused too, once a newer one was used.
    expect((await secondStep(h, { mfaToken: await passwordStep(h, user), code: totp(user.secret, -1) })).status).toBe(401);
    // The replay counted as a failed sign-in.
    const failed = await h.query<{ n: number }>(`select count(*)::int as n from audit_events where action = 'auth.mfa_failed' and target_id = $1`, [String(user.id)]);
    expect(failed[0]!.n).toBe(2);
    // The next step's code still works.
    expect((await secondStep(h, { mfaToken: await passwordStep(h, user), code: totp(user.secret, 1) })).status).toBe(200);
  });

  it('the code that confirmed the enrolment cannot sign in', async () => {
    await midStep();
    const user = await enrolled(h);
    await h.query('update mfa_factors set last_step = $2 where user_id = $1', [user.id, stepAt(Date.now())]);
    expect((await secondStep(h, { mfaToken: await passwordStep(h, user), code: totp(user.secret) })).status).toBe(401);
  });
});

describe('clock drift', () => {
  it.each([
    [-1, 200],
    [1, 200],
    [-2, 401],
    [2, 401],
  ])('a code %i step(s) away → %i', async (offset, status) => {
    const user = await enrolled(h);
    await midStep();
    const res = await secondStep(h, { mfaToken: await passwordStep(h, user), code: codeAt(user.secret, stepAt(Date.now()) + offset) });
    expect(res.status).toBe(status);
  });

  it('applies to the enrolment confirmation too', async () => {
    const user = await enrolled(h);
    await h.call('POST', '/v1/me/mfa/disable', { token: user.token, body: { currentPassword: user.password, code: user.recoveryCodes[0] } });
    const start = await h.call('POST', '/v1/me/mfa/totp', { token: user.token, body: { currentPassword: user.password } });
    const { Secret } = await import('otpauth/bare');
    const secret = Secret.fromBase32(start.body.secret).bytes;
    await midStep();
    const far = await h.call('POST', '/v1/me/mfa/totp/confirm', { token: user.token, body: { code: totp(secret, 2) } });
    expect(far.status).toBe(422);
    const near = await h.call('POST', '/v1/me/mfa/totp/confirm', { token: user.token, body: { code: totp(secret, -1) } });
    expect(near.status).toBe(200);
  });
});

describe('guessing codes', () => {
  it('5 wrong codes lock the email: 429 with Retry-After for the right code and for the password step', async () => {
    const user = await enrolled(h);
    const mfaToken = await passwordStep(h, user);
    const bad = wrongCode(user.secret);
    for (let i = 0; i < 5; i++) expect((await secondStep(h, { mfaToken, code: bad })).status).toBe(401);
    const locked = await secondStep(h, { mfaToken, code: totp(user.secret) });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await secondStep(h, { mfaToken, recoveryCode: user.recoveryCodes[0]! })).status).toBe(429);
    expect((await login(user)).status).toBe(429);
    // A fresh mfaToken does not help either: its email is locked.
    await h.query('delete from login_throttle');
    const other = await passwordStep(h, user);
    await h.query(`update login_throttle set attempts = array_fill(now(), array[5])`);
    expect((await secondStep(h, { mfaToken: other, code: totp(user.secret) })).status).toBe(429);
  });

  it('wrong passwords and wrong codes add up in one lockout', async () => {
    const user = await enrolled(h);
    for (let i = 0; i < 3; i++) expect((await h.call('POST', '/v1/auth/login', { body: { email: user.email, password: 'wrong password!' } })).status).toBe(401);
    const mfaToken = await passwordStep(h, user);
    const bad = wrongCode(user.secret);
    expect((await secondStep(h, { mfaToken, code: bad })).status).toBe(401);
    expect((await secondStep(h, { mfaToken, code: bad })).status).toBe(401);
    expect((await secondStep(h, { mfaToken, code: totp(user.secret) })).status).toBe(429);
  });

  it('an mfaToken dies after 5 wrong codes even where the lockout allows more', async () => {
    const lenient = h.with({ LOGIN_MAX_FAILURES: '50' });
    const user = await enrolled(lenient);
    const mfaToken = await passwordStep(lenient, user);
    const bad = wrongCode(user.secret);
    for (let i = 0; i < 5; i++) expect((await secondStep(lenient, { mfaToken, code: bad })).status).toBe(401);
    expect((await secondStep(lenient, { mfaToken, code: totp(user.secret) })).status).toBe(401);
    expect((await secondStep(lenient, { mfaToken: await passwordStep(lenient, user), code: totp(user.secret) })).status).toBe(200);
  });

  it('wrong codes on the signed-in routes count too, and a locked account gets 429 there', async () => {
    const user = await enrolled(h);
    const bad = wrongCode(user.secret);
    for (let i = 0; i < 5; i++) {
      expect((await h.call('POST', '/v1/me/mfa/recovery-codes', { token: user.token, body: { code: bad } })).status).toBe(401);
    }
    expect((await h.call('POST', '/v1/me/mfa/recovery-codes', { token: user.token, body: { code: totp(user.secret) } })).status).toBe(429);
    expect((await h.call('POST', '/v1/me/mfa/disable', { token: user.token, body: { currentPassword: user.password, code: totp(user.secret) } })).status).toBe(429);
    expect((await login(user)).status).toBe(429);
  });

  it('POST /v1/me/mfa/totp checks the password under the sign-in lockout: 429 after 5 wrong ones, a right one gives its attempt back', async () => {
    const user = await userWithToken(h);
    for (let i = 0; i < 4; i++) {
      expect((await h.call('POST', '/v1/me/mfa/totp', { token: user.token, body: { currentPassword: `wrong ${i} password` } })).status).toBe(401);
    }
    expect((await h.call('POST', '/v1/me/mfa/totp', { token: user.token, body: { currentPassword: user.password } })).status).toBe(200);
    const held = await h.query<{ n: number }>(`select cardinality(attempts) as n from login_throttle where email_hash = sha256(convert_to($1, 'UTF8'))`, [user.email]);
    expect(held[0]!.n).toBe(4);
    expect((await h.call('POST', '/v1/me/mfa/totp', { token: user.token, body: { currentPassword: 'wrong 5 password' } })).status).toBe(401);
    const locked = await h.call('POST', '/v1/me/mfa/totp', { token: user.token, body: { currentPassword: user.password } });
    expect(locked.status).toBe(429);
    expect(locked.headers.get('content-type')).toMatch(/problem\+json/);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await login(user)).status).toBe(429);
  });

  it('lets no burst of concurrent guesses past the limit', async () => {
    const user = await enrolled(h);
    const mfaToken = await passwordStep(h, user);
    const bad = wrongCode(user.secret);
    const results = await Promise.all(Array.from({ length: 12 }, () => secondStep(h, { mfaToken, code: bad })));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
  });
});

describe('races', () => {
  it('one recovery code used by 8 sign-ins at once: exactly one wins', async () => {
    const lenient = h.with({ LOGIN_MAX_FAILURES: '50' });
    const user = await enrolled(lenient);
    const tokens = [];
    for (let i = 0; i < 8; i++) tokens.push(await passwordStep(lenient, user));
    const results = await Promise.all(tokens.map((mfaToken) => secondStep(lenient, { mfaToken, recoveryCode: user.recoveryCodes[0]! })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401, 401, 401, 401, 401, 401]);
    const sessions = await h.query<{ n: number }>(`select count(*)::int as n from sessions where user_id = $1 and 'otp' = any(amr)`, [user.id]);
    expect(sessions[0]!.n).toBe(1);
  });

  it('one TOTP code used by 8 sign-ins at once: exactly one wins', async () => {
    const lenient = h.with({ LOGIN_MAX_FAILURES: '50' });
    await midStep();
    const user = await enrolled(lenient);
    const tokens = [];
    for (let i = 0; i < 8; i++) tokens.push(await passwordStep(lenient, user));
    const code = totp(user.secret);
    const results = await Promise.all(tokens.map((mfaToken) => secondStep(lenient, { mfaToken, code })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401, 401, 401, 401, 401, 401]);
  });

  it('one mfaToken sent twice at once with two valid codes: one session', async () => {
    const user = await enrolled(h);
    const mfaToken = await passwordStep(h, user);
    const results = await Promise.all([
      secondStep(h, { mfaToken, code: totp(user.secret) }),
      secondStep(h, { mfaToken, recoveryCode: user.recoveryCodes[1]! }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    const sessions = await h.query<{ n: number }>(`select count(*)::int as n from sessions where user_id = $1 and 'otp' = any(amr)`, [user.id]);
    expect(sessions[0]!.n).toBe(1);
  });
});

describe('rotating MFA_ENCRYPTION_KEY', () => {
  const newKey = () => `rotated-${crypto.randomUUID().slice(0, 8)}:${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;

  it('keeps old factors working through MFA_ENCRYPTION_PREVIOUS_KEYS and re-seals each on its next use', async () => {
    const user = await enrolled(h);
    const oldKey = h.env.MFA_ENCRYPTION_KEY!;
    const next = newKey();
    const rotated = h.with({ MFA_ENCRYPTION_KEY: next, MFA_ENCRYPTION_PREVIOUS_KEYS: oldKey });
    const keyOf = async () => (await h.query<{ key_id: string }>('select key_id from mfa_factors where user_id = $1', [user.id]))[0]!.key_id;
    expect(await keyOf()).toBe(oldKey.split(':')[0]);

    // Without the previous key the old row cannot be opened: a 500 naming no secret, and nothing changes.
    const forgotten = h.with({ MFA_ENCRYPTION_KEY: next });
    const broken = await secondStep(forgotten, { mfaToken: await passwordStep(forgotten, user), code: totp(user.secret) });
    expect(broken.status).toBe(500);
    expect(broken.text).not.toMatch(/MFA_|key/i);

    const ok = await secondStep(rotated, { mfaToken: await passwordStep(rotated, user), code: totp(user.secret) });
    expect(ok.status).toBe(200);
    expect(claims(ok.body.accessToken).amr).toEqual(['pwd', 'otp']);
    expect(await keyOf()).toBe(next.split(':')[0]);
    // Now the new key alone is enough.
    await forgetSteps(h, user.id);
    expect((await secondStep(forgotten, { mfaToken: await passwordStep(forgotten, user), code: totp(user.secret) })).status).toBe(200);
  });
});
