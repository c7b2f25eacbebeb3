/**
 * Contract §9 end to end, through the Worker and the dev mailbox: invitations, password reset, email verification,
 * email change (self-service and by an admin), notices, unlock, and every way a token can be misused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from './expect';
import { createHarness, createUser, mailbox, signIn, tokenFromMailbox, uniqueEmail, userWithToken, type Harness } from './harness';

let h: Harness;
let admin: Awaited<ReturnType<typeof userWithToken>>;
beforeAll(async () => {
  h = await createHarness();
  admin = await userWithToken(h, ['admin']);
});
afterAll(() => h.drop());

const PASSWORD = 'a brand new passphrase';
const login = (email: string, password: string) => h.call('POST', '/v1/auth/login', { body: { email, password } });
const invite = (email: string, extra: object = {}) => h.call('POST', '/v1/users', { token: admin.token, body: { name: 'Invitee', email, ...extra } });
const accept = (token: string, password = PASSWORD, name?: string) =>
  h.call('POST', '/v1/auth/invitation/accept', { body: { token, password, ...(name ? { name } : {}) } });
const forgot = (email: string) => h.call('POST', '/v1/auth/password/forgot', { body: { email } });
const reset = (token: string, newPassword = PASSWORD) => h.call('POST', '/v1/auth/password/reset', { body: { token, newPassword } });
const verify = (token: string) => h.call('POST', '/v1/auth/email/verify', { body: { token } });
const confirm = (token: string) => h.call('POST', '/v1/auth/email/confirm', { body: { token } });
const audit = (action: string, targetId: number) =>
  h.query<{ actor_id: number | null; details: any }>(`select actor_id, details from audit_events where action = $1 and target_id = $2 order by id`, [action, String(targetId)]);
const expectUnusable = (res: Awaited<ReturnType<Harness['call']>>) => {
  expectProblem(res, 401);
  expect(res.body.detail).toMatch(/invalid, expired or already used/);
};

describe('invitations', () => {
  it('creates an invited account, emails a link, and accepting it sets the password and signs in', async () => {
    const email = uniqueEmail('invitee');
    const created = await invite(email, { roles: ['analyst'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ email, invited: true, emailVerified: false, roles: ['analyst'] });
    const [message] = await mailbox(h, email);
    expect(message!.subject).toMatch(/invited/i);
    expect(message!.text).toContain('expires in 7 days');
    // Until accepted, the account cannot sign in: the same 401 as a wrong password.
    const refused = await login(email, PASSWORD);
    expectProblem(refused, 401);
    expect(refused.body).toEqual((await login(uniqueEmail('nobody'), PASSWORD)).body);

    const token = await tokenFromMailbox(h, email, 'accept-invitation');
    const accepted = await accept(token, PASSWORD, 'Ada Invited');
    expect(accepted.status).toBe(200);
    expect(accepted.statements).toBe(1);
    expect(accepted.body.user).toMatchObject({ id: created.body.id, name: 'Ada Invited', invited: false, emailVerified: true, roles: ['analyst'] });
    expect((await h.call('GET', '/v1/me', { token: accepted.body.accessToken })).body.email).toBe(email);
    expect((await login(email, PASSWORD)).status).toBe(200);
    expectUnusable(await accept(token));
    expect(await audit('user.invite', created.body.id)).toEqual([{ actor_id: admin.id, details: { resend: false } }]);
    expect(await audit('user.invitation_accept', created.body.id)).toEqual([{ actor_id: created.body.id, details: {} }]);
    expect((await audit('user.create', created.body.id))[0]!.details).toMatchObject({ invited: true });
  });

  it('a refused creation sends nothing', async () => {
    const taken = uniqueEmail('taken');
    await createUser(h, { email: taken });
    expectProblem(await invite(taken), 409);
    const unknownRole = uniqueEmail('unknown-role');
    expectProblem(await invite(unknownRole, { roles: ['no-such-role'] }), 422);
    const viewer = await userWithToken(h);
    const byViewer = uniqueEmail('by-viewer');
    expectProblem(await h.call('POST', '/v1/users', { token: viewer.token, body: { name: 'X', email: byViewer } }), 403);
    for (const email of [taken, unknownRole, byViewer]) expect(await mailbox(h, email)).toEqual([]);
  });

  it('resend: a new link, the earlier ones stop working; 409 once accepted, 404 unknown, 403 without users:write', async () => {
    const email = uniqueEmail('resend');
    const { body: user } = await invite(email);
    const first = await tokenFromMailbox(h, email, 'accept-invitation');
    const resent = await h.call('POST', `/v1/users/${user.id}/invitation`, { token: admin.token });
    expect(resent.status).toBe(202);
    expect(resent.statements).toBe(1);
    expect(await mailbox(h, email)).toHaveLength(2);
    const second = await tokenFromMailbox(h, email, 'accept-invitation');
    expect(second).not.toBe(first);
    expectUnusable(await accept(first));
    expect((await accept(second)).status).toBe(200);
    expectProblem(await h.call('POST', `/v1/users/${user.id}/invitation`, { token: admin.token }), 409);
    expectProblem(await h.call('POST', '/v1/users/2147483647/invitation', { token: admin.token }), 404);
    const viewer = await userWithToken(h);
    expectProblem(await h.call('POST', `/v1/users/${user.id}/invitation`, { token: viewer.token }), 403);
    expect(await audit('user.invite', user.id)).toHaveLength(2);
  });

  it('concurrent accepts of one invitation: exactly one wins', async () => {
    const email = uniqueEmail('race');
    const { body: user } = await invite(email);
    const token = await tokenFromMailbox(h, email, 'accept-invitation');
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => accept(token, `${PASSWORD} ${i}`)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401, 401, 401, 401]);
    const sessions = await h.query(`select 1 from sessions where user_id = $1`, [user.id]);
    expect(sessions).toHaveLength(1);
    const winner = results.findIndex((r) => r.status === 200);
    expect((await login(email, `${PASSWORD} ${winner}`)).status).toBe(200);
  });

  it('an expired invitation is a 401, and an admin may set a password instead', async () => {
    const email = uniqueEmail('expired');
    const { body: user } = await invite(email);
    const token = await tokenFromMailbox(h, email, 'accept-invitation');
    await h.query(`update account_tokens set expires_at = now() - interval '1 second' where user_id = $1`, [user.id]);
    expectUnusable(await accept(token));
    const patched = await h.call('PATCH', `/v1/users/${user.id}`, { token: admin.token, body: { password: PASSWORD } });
    expect(patched.body.invited).toBe(false);
    expect((await login(email, PASSWORD)).status).toBe(200);
  });
});

describe('password reset', () => {
  it('same answer, same statements for a known and an unknown email; only the known one gets a link', async () => {
    const user = await createUser(h);
    const unknown = uniqueEmail('unknown');
    const known = await forgot(user.email.toUpperCase());
    const other = await forgot(unknown);
    expect(known.status).toBe(202);
    expect(other.status).toBe(202);
    expect(other.text).toBe(known.text);
    expect(other.statements).toBe(known.statements);
    expect(await mailbox(h, unknown)).toEqual([]);
    const [message] = await mailbox(h, user.email);
    expect(message!.text).toContain('expires in 30 minutes');
    expect(message!.text).toMatch(/did not ask for this, ignore this email/);
    expect(await audit('user.password_reset_request', user.id)).toHaveLength(1);
  });

  it('resets: new password works, old does not, every session revoked, lockout cleared, notice sent', async () => {
    const user = await createUser(h);
    const pair = await signIn(h, user);
    for (let i = 0; i < 5; i++) await login(user.email, 'wrong password guess');
    expectProblem(await login(user.email, user.password), 429);
    await forgot(user.email);
    const done = await reset(await tokenFromMailbox(h, user.email, 'reset-password'));
    expect(done.status).toBe(204);
    expect(done.statements).toBe(1);
    expectProblem(await login(user.email, user.password), 401);
    expect((await login(user.email, PASSWORD)).status).toBe(200);
    expectProblem(await h.call('GET', '/v1/me', { token: pair.accessToken }), 401);
    expectProblem(await h.call('POST', '/v1/auth/refresh', { body: { refreshToken: pair.refreshToken } }), 401);
    const [notice] = await mailbox(h, user.email);
    expect(notice!.subject).toMatch(/password was changed/);
    expect(notice!.text).not.toMatch(/token=/);
    expect(await audit('user.password_reset', user.id)).toEqual([{ actor_id: user.id, details: {} }]);
  });

  it('a newer link kills the earlier ones; at most 3 emails per hour, and past the cap earlier links keep working', async () => {
    const user = await createUser(h);
    await forgot(user.email);
    const first = await tokenFromMailbox(h, user.email, 'reset-password');
    await forgot(user.email);
    await forgot(user.email);
    const third = await tokenFromMailbox(h, user.email, 'reset-password');
    const capped = await forgot(user.email);
    expect(capped.status).toBe(202);
    expect(await mailbox(h, user.email)).toHaveLength(3);
    expectUnusable(await reset(first));
    expect((await reset(third)).status).toBe(204);
  });

  it('concurrent requests cannot get past the cap', async () => {
    const user = await createUser(h);
    const answers = await Promise.all(Array.from({ length: 8 }, () => forgot(user.email)));
    expect(answers.every((r) => r.status === 202)).toBe(true);
    expect(await mailbox(h, user.email)).toHaveLength(3);
  });

  it('sends nothing to a disabled or an invited account', async () => {
    const disabled = await createUser(h, { disabled: true });
    const invited = uniqueEmail('invited-forgot');
    await invite(invited);
    await forgot(disabled.email);
    await forgot(invited);
    expect(await mailbox(h, disabled.email)).toEqual([]);
    expect((await mailbox(h, invited)).map((m) => m.subject)).toEqual([expect.stringMatching(/invited/)]);
  });

  it('is limited per address (PostgreSQL fallback counter)', async () => {
    const limited = h.with({ AUTH_RATE_LIMITER: undefined, RATE_LIMIT_PER_MINUTE: '2' });
    const headers = { 'cf-connecting-ip': '198.51.100.77' };
    for (let i = 0; i < 2; i++) expect((await limited.call('POST', '/v1/auth/password/forgot', { body: { email: uniqueEmail() }, headers })).status).toBe(202);
    const refused = await limited.call('POST', '/v1/auth/password/forgot', { body: { email: uniqueEmail() }, headers });
    expectProblem(refused, 429);
    expect(refused.headers.get('retry-after')).toBeTruthy();
  });
});

describe('token misuse', () => {
  it('reuse, expiry, other purpose, superseded, tampered, unknown: all 401, and nothing changes', async () => {
    const user = await createUser(h);
    await forgot(user.email);
    const token = await tokenFromMailbox(h, user.email, 'reset-password');
    const tampered = (token[0] === 'A' ? 'B' : 'A') + token.slice(1);
    expectUnusable(await reset(tampered));
    expectUnusable(await reset('x'.repeat(43)));
    expectUnusable(await verify(token));
    expectUnusable(await confirm(token));
    expectUnusable(await accept(token));
    expect((await login(user.email, user.password)).status).toBe(200);
    // Expired.
    await h.query(`update account_tokens set expires_at = now() - interval '1 second' where user_id = $1`, [user.id]);
    expectUnusable(await reset(token));
    // Used.
    await forgot(user.email);
    const fresh = await tokenFromMailbox(h, user.email, 'reset-password');
    expect((await reset(fresh)).status).toBe(204);
    expectUnusable(await reset(fresh, 'yet another passphrase'));
    expect((await login(user.email, PASSWORD)).status).toBe(200);
    // Only hashes are stored.
    const stored = await h.query<{ hex: string }>(`select encode(token_hash, 'hex') as hex from account_tokens where user_id = $1`, [user.id]);
    expect(stored.length).toBeGreaterThan(0);
    expect(JSON.stringify(stored)).not.toContain(fresh);
  });

  it('another account’s token acts on that account only; a link dies when the address it was sent to changes', async () => {
    const a = await h.call('POST', '/v1/auth/register', { body: { name: 'A', email: uniqueEmail('a'), password: 'long enough password' } });
    const b = await h.call('POST', '/v1/auth/register', { body: { name: 'B', email: uniqueEmail('b'), password: 'long enough password' } });
    const tokenA = await tokenFromMailbox(h, a.body.user.email, 'verify-email');
    expect((await verify(tokenA)).status).toBe(204);
    expect((await h.call('GET', '/v1/me', { token: a.body.accessToken })).body.emailVerified).toBe(true);
    expect((await h.call('GET', '/v1/me', { token: b.body.accessToken })).body.emailVerified).toBe(false);
    const tokenB = await tokenFromMailbox(h, b.body.user.email, 'verify-email');
    await h.call('PATCH', `/v1/users/${b.body.user.id}`, { token: admin.token, body: { email: uniqueEmail('b-moved') } });
    expectUnusable(await verify(tokenB));
  });
});

describe('email verification', () => {
  it('a new account is unverified and verifies with its link; a new link supersedes; 409 once verified', async () => {
    const email = uniqueEmail('verify');
    const reg = await h.call('POST', '/v1/auth/register', { body: { name: 'V', email, password: 'long enough password' } });
    expect(reg.body.user.emailVerified).toBe(false);
    const first = await tokenFromMailbox(h, email, 'verify-email');
    const again = await h.call('POST', '/v1/me/email/verification', { token: reg.body.accessToken });
    expect(again.status).toBe(202);
    expect(again.statements).toBe(1);
    expectUnusable(await verify(first));
    const done = await verify(await tokenFromMailbox(h, email, 'verify-email'));
    expect(done.status).toBe(204);
    expect(done.statements).toBe(1);
    expect((await h.call('GET', '/v1/me', { token: reg.body.accessToken })).body.emailVerified).toBe(true);
    expectProblem(await h.call('POST', '/v1/me/email/verification', { token: reg.body.accessToken }), 409);
    expect(await audit('user.email_verify', reg.body.user.id)).toHaveLength(1);
  });

  it('an account created by an admin with a password is sent a verification link', async () => {
    const email = uniqueEmail('admin-made');
    const created = await h.call('POST', '/v1/users', { token: admin.token, body: { name: 'M', email, password: 'long enough password' } });
    expect(created.body).toMatchObject({ invited: false, emailVerified: false });
    expect((await verify(await tokenFromMailbox(h, email, 'verify-email'))).status).toBe(204);
  });

  it('REQUIRE_VERIFIED_EMAIL: an unverified account’s correct sign-in is a 403; a wrong one stays a 401', async () => {
    const strict = h.with({ REQUIRE_VERIFIED_EMAIL: 'true' });
    const email = uniqueEmail('strict');
    await h.call('POST', '/v1/auth/register', { body: { name: 'S', email, password: 'long enough password' } });
    const refused = await strict.call('POST', '/v1/auth/login', { body: { email, password: 'long enough password' } });
    expectProblem(refused, 403);
    expect(refused.body.type).toMatch(/email-unverified$/);
    expectProblem(await strict.call('POST', '/v1/auth/login', { body: { email, password: 'wrong password here' } }), 401);
    // The account cannot sign in to ask for a link, so the refusal sent a fresh one (the first stops working).
    const [fresh, first] = await mailbox(h, email);
    expect(fresh!.subject).toMatch(/Confirm your email/);
    expectUnusable(await verify(/token=([\w-]+)/.exec(first!.text)![1]!));
    await verify(await tokenFromMailbox(h, email, 'verify-email'));
    expect((await strict.call('POST', '/v1/auth/login', { body: { email, password: 'long enough password' } })).status).toBe(200);
  });
});

describe('email change', () => {
  it('self-service: a link to the new address and a notice to the old; the change happens on confirmation', async () => {
    const me = await userWithToken(h);
    const newEmail = uniqueEmail('moved');
    const asked = await h.call('POST', '/v1/me/email', { token: me.token, body: { newEmail: newEmail.toUpperCase(), currentPassword: me.password } });
    expect(asked.status).toBe(202);
    expect(asked.statements).toBe(2);
    const [notice] = await mailbox(h, me.email);
    expect(notice!.subject).toMatch(/being changed/);
    expect(notice!.text).not.toMatch(/token=/);
    expect((await h.call('GET', '/v1/me', { token: me.token })).body.email).toBe(me.email);
    const done = await confirm(await tokenFromMailbox(h, newEmail, 'confirm-email'));
    expect(done.status).toBe(204);
    expect((await h.call('GET', '/v1/me', { token: me.token })).body).toMatchObject({ email: newEmail, emailVerified: true });
    expect((await login(newEmail, me.password)).status).toBe(200);
    expectProblem(await login(me.email, me.password), 401);
    expect(await audit('user.email_change', me.id)).toEqual([{ actor_id: me.id, details: { via: 'confirmation' } }]);
  });

  it('401 on a wrong password, 409 when taken, 422 for the same address: nothing is sent', async () => {
    const me = await userWithToken(h);
    const other = await createUser(h);
    const target = uniqueEmail('never');
    expectProblem(await h.call('POST', '/v1/me/email', { token: me.token, body: { newEmail: target, currentPassword: 'not my password' } }), 401);
    expectProblem(await h.call('POST', '/v1/me/email', { token: me.token, body: { newEmail: other.email, currentPassword: me.password } }), 409);
    expectProblem(await h.call('POST', '/v1/me/email', { token: me.token, body: { newEmail: me.email, currentPassword: me.password } }), 422);
    expect(await mailbox(h, target)).toEqual([]);
    expect(await mailbox(h, other.email)).toEqual([]);
    expect(await mailbox(h, me.email)).toEqual([]);
  });

  it('a pending change reserves nothing: taken meanwhile → 409 and nothing changes', async () => {
    const me = await userWithToken(h);
    const newEmail = uniqueEmail('contested');
    await h.call('POST', '/v1/me/email', { token: me.token, body: { newEmail, currentPassword: me.password } });
    await createUser(h, { email: newEmail });
    expectProblem(await confirm(await tokenFromMailbox(h, newEmail, 'confirm-email')), 409);
    expect((await h.call('GET', '/v1/me', { token: me.token })).body.email).toBe(me.email);
  });

  it('by an admin: changes at once, unverified, a verification link to the new address', async () => {
    const user = await createUser(h);
    await h.query(`update users set email_verified = true where id = $1`, [user.id]);
    const newEmail = uniqueEmail('admin-moved');
    const res = await h.call('PATCH', `/v1/users/${user.id}`, { token: admin.token, body: { email: newEmail } });
    expect(res.status).toBe(200);
    expect(res.statements).toBe(1);
    expect(res.body).toMatchObject({ email: newEmail, emailVerified: false });
    expect((await verify(await tokenFromMailbox(h, newEmail, 'verify-email'))).status).toBe(204);
    // A name-only change leaves the flag alone and sends nothing.
    await h.call('PATCH', `/v1/users/${user.id}`, { token: admin.token, body: { name: 'Renamed' } });
    expect((await h.call('GET', `/v1/users/${user.id}`, { token: admin.token })).body.emailVerified).toBe(true);
    expect(await mailbox(h, newEmail)).toHaveLength(1);
  });
});

describe('notices and lockouts', () => {
  it('a password change sends a notice to the account’s address', async () => {
    const me = await userWithToken(h);
    const res = await h.call('POST', '/v1/me/password', { token: me.token, body: { currentPassword: me.password, newPassword: PASSWORD } });
    expect(res.status).toBe(204);
    expect((await mailbox(h, me.email)).map((m) => m.subject)).toEqual([expect.stringMatching(/password was changed/)]);
  });

  it('POST /v1/me/password has the sign-in lockout: 429 after 5 wrong passwords, shared with sign-in', async () => {
    const me = await userWithToken(h);
    for (let i = 0; i < 5; i++) {
      expectProblem(await h.call('POST', '/v1/me/password', { token: me.token, body: { currentPassword: `wrong ${i} password`, newPassword: PASSWORD } }), 401);
    }
    const locked = await h.call('POST', '/v1/me/password', { token: me.token, body: { currentPassword: me.password, newPassword: PASSWORD } });
    expectProblem(locked, 429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expectProblem(await login(me.email, me.password), 429);
    expect(await mailbox(h, me.email)).toEqual([]);
  });

  it('a right password gives its attempt back', async () => {
    const me = await userWithToken(h);
    for (let i = 0; i < 4; i++) await h.call('POST', '/v1/me/password', { token: me.token, body: { currentPassword: 'wrong password', newPassword: PASSWORD } });
    expect((await h.call('POST', '/v1/me/password', { token: me.token, body: { currentPassword: me.password, newPassword: PASSWORD } })).status).toBe(204);
    const rows = await h.query<{ n: number }>(`select cardinality(attempts) as n from login_throttle where email_hash = sha256(convert_to($1, 'UTF8'))`, [me.email]);
    expect(rows[0]!.n).toBe(4);
  });

  it('unlock clears the lockout (users:write), audited', async () => {
    const user = await createUser(h);
    for (let i = 0; i < 5; i++) await login(user.email, 'wrong password guess');
    expectProblem(await login(user.email, user.password), 429);
    const viewer = await userWithToken(h);
    expectProblem(await h.call('POST', `/v1/users/${user.id}/unlock`, { token: viewer.token }), 403);
    const res = await h.call('POST', `/v1/users/${user.id}/unlock`, { token: admin.token });
    expect(res.status).toBe(204);
    expect(res.statements).toBe(1);
    expect((await login(user.email, user.password)).status).toBe(200);
    expect(await audit('auth.unlock', user.id)).toEqual([{ actor_id: admin.id, details: { wasLocked: true } }]);
    expectProblem(await h.call('POST', '/v1/users/2147483647/unlock', { token: admin.token }), 404);
  });
});
