/**
 * Contract §17 against the Worker in workerd and a real PostgreSQL, with real WebAuthn ceremonies from the software
 * authenticator (test/passkey-authenticator.ts): registration, sign-in, removal, and every refusal the contract names.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import worker from '../src/index';
import { PURGE_CRON } from '../src/jobs/scheduled';
import { expectWithinBudget } from './budgets';
import { expectProblem } from './expect';
import { createHarness, createUser, mailbox, signIn, userWithToken, type Harness } from './harness';
import { claims } from './mfa-helpers';
import { b64url, SoftAuthenticator } from './passkey-authenticator';
import { addPasskey, ORIGIN, passkeySignIn } from './passkey-helpers';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.drop());

const passkeyRows = (userId: number) =>
  h.query<{ id: number; name: string; counter: string; transports: string[]; last_used_at: string | null }>(
    'select id, name, counter::text, transports, last_used_at from passkeys where user_id = $1 order by id',
    [userId],
  );
const audit = (action: string, userId: number) =>
  h.query<{ actor_id: number | null; details: any }>('select actor_id, details from audit_events where action = $1 and target_id = $2 order by id', [action, String(userId)]);
const challenges = () => h.query<{ n: number }>('select count(*)::int as n from passkey_challenges where expires_at > now()').then((r) => r[0]!.n);

describe('registration', () => {
  it('answers creation options for a discoverable, user-verified credential, and registers it', async () => {
    const user = await userWithToken(h);
    const options = await h.call('POST', '/v1/me/passkeys/options', { token: user.token });
    expect(options.status).toBe(200);
    expectWithinBudget('POST /v1/me/passkeys/options', options);
    expect(options.body).toMatchObject({
      rp: { id: 'api.test' },
      user: { id: b64url(new TextEncoder().encode(String(user.id))), name: user.email, displayName: 'Test User' },
      timeout: 300_000,
      attestation: 'none',
      excludeCredentials: [],
      authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
    });
    expect(options.body.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(options.body.pubKeyCredParams.map((p: { alg: number }) => p.alg)).toContain(-7);
    // Stored only as its hash.
    const stored = await h.query<{ hash: string }>("select encode(challenge_hash, 'hex') as hash from passkey_challenges where user_id = $1", [user.id]);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.hash).not.toContain(Buffer.from(options.body.challenge, 'base64url').toString('hex'));

    const authenticator = new SoftAuthenticator();
    const response = await authenticator.create(options.body, { origin: ORIGIN });
    const res = await h.call('POST', '/v1/me/passkeys', { token: user.token, body: { name: '  Work laptop ', response } });
    expect(res.status, res.text).toBe(201);
    expectWithinBudget('POST /v1/me/passkeys', res);
    expect(res.body).toEqual({ id: expect.any(Number), name: 'Work laptop', createdAt: expect.stringMatching(/Z$/), lastUsedAt: null });
    const rows = await passkeyRows(user.id);
    expect(rows).toEqual([{ id: res.body.id, name: 'Work laptop', counter: '0', transports: ['internal', 'hybrid'], last_used_at: null }]);
    expect(await h.query('select 1 from passkey_challenges where user_id = $1', [user.id])).toHaveLength(0);
    expect(await audit('passkey.add', user.id)).toEqual([{ actor_id: user.id, details: { passkeyId: res.body.id, name: 'Work laptop' } }]);
    expect((await mailbox(h, user.email)).map((m) => m.subject)).toContainEqual(expect.stringContaining('A passkey was added'));

    const list = await h.call('GET', '/v1/me/passkeys', { token: user.token });
    expect(list.status).toBe(200);
    expectWithinBudget('GET /v1/me/passkeys', list);
    expect(list.body).toEqual({ data: [res.body] });

    // The next options exclude it.
    const again = await h.call('POST', '/v1/me/passkeys/options', { token: user.token });
    expect(again.body.excludeCredentials).toEqual([{ id: response.id, type: 'public-key', transports: ['internal', 'hybrid'] }]);
  });

  const refusals: [string, (a: { options: any; authenticator: SoftAuthenticator }) => Promise<unknown>][] = [
    ['a wrong origin', ({ options, authenticator }) => authenticator.create(options, { origin: 'https://evil.example' })],
    ['a wrong RP id', ({ options, authenticator }) => authenticator.create(options, { origin: ORIGIN, rpId: 'evil.example' })],
    ['user verification missing', ({ options, authenticator }) => authenticator.create(options, { origin: ORIGIN, userVerified: false })],
    ['an assertion type', ({ options, authenticator }) => authenticator.create(options, { origin: ORIGIN, type: 'webauthn.get' })],
    ['a challenge the server never issued', ({ options, authenticator }) => authenticator.create(options, { origin: ORIGIN, challenge: b64url(crypto.getRandomValues(new Uint8Array(32))) })],
  ];
  it.each(refusals)('refuses %s: 422 on `response`, nothing registered', async (_, forge) => {
    const user = await userWithToken(h);
    const options = (await h.call('POST', '/v1/me/passkeys/options', { token: user.token })).body;
    const response = await forge({ options, authenticator: new SoftAuthenticator() });
    const res = await h.call('POST', '/v1/me/passkeys', { token: user.token, body: { name: 'Key', response } });
    expectProblem(res, 422);
    expect(res.body.errors).toEqual([{ path: 'response', message: expect.any(String) }]);
    expectWithinBudget('POST /v1/me/passkeys', res);
    expect(await passkeyRows(user.id)).toEqual([]);
    expect(await audit('passkey.add', user.id)).toEqual([]);
  });

  it('refuses a replayed challenge: the same answer twice registers once', async () => {
    const user = await userWithToken(h);
    const { res, response } = await addPasskey(h, user.token);
    expect(res.status).toBe(201);
    // A fresh credential on the used challenge, and the very same answer again.
    const replay = await h.call('POST', '/v1/me/passkeys', { token: user.token, body: { name: 'Again', response } });
    expectProblem(replay, 422);
    expect(replay.body.detail + replay.body.errors[0].message).toMatch(/challenge/);
    expect(await passkeyRows(user.id)).toHaveLength(1);
  });

  it('refuses a challenge issued to another account, and an expired one', async () => {
    const a = await userWithToken(h);
    const b = await userWithToken(h);
    const options = (await h.call('POST', '/v1/me/passkeys/options', { token: a.token })).body;
    const response = await new SoftAuthenticator().create(options, { origin: ORIGIN });
    expectProblem(await h.call('POST', '/v1/me/passkeys', { token: b.token, body: { name: 'Key', response } }), 422);
    expect(await passkeyRows(b.id)).toEqual([]);

    await h.query("update passkey_challenges set expires_at = now() - interval '1 second' where user_id = $1", [a.id]);
    expectProblem(await h.call('POST', '/v1/me/passkeys', { token: a.token, body: { name: 'Key', response } }), 422);
    expect(await passkeyRows(a.id)).toEqual([]);
  });

  it('refuses a credential already registered, by the same account or by another', async () => {
    const a = await userWithToken(h);
    const b = await userWithToken(h);
    const { res, authenticator } = await addPasskey(h, a.token);
    expect(res.status).toBe(201);
    const credential = authenticator.credentials[0]!;
    for (const user of [a, b]) {
      const options = (await h.call('POST', '/v1/me/passkeys/options', { token: user.token })).body;
      const response = await authenticator.attestAgain(credential, options, { origin: ORIGIN });
      const again = await h.call('POST', '/v1/me/passkeys', { token: user.token, body: { name: 'Same key', response } });
      expectProblem(again, 422);
      expect(again.body.errors[0].message).toMatch(/already registered/);
    }
    expect(await passkeyRows(a.id)).toHaveLength(1);
    expect(await passkeyRows(b.id)).toEqual([]);
  });

  it('registers once when the same answer races itself', async () => {
    const user = await userWithToken(h);
    const options = (await h.call('POST', '/v1/me/passkeys/options', { token: user.token })).body;
    const response = await new SoftAuthenticator().create(options, { origin: ORIGIN });
    const results = await Promise.all([1, 2, 3].map(() => h.call('POST', '/v1/me/passkeys', { token: user.token, body: { name: 'Race', response } })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 422, 422]);
    expect(await passkeyRows(user.id)).toHaveLength(1);
  });

  it('validates the body: 422 naming the field, nothing stored', async () => {
    const user = await userWithToken(h);
    const { response } = await addPasskey(h, user.token, new SoftAuthenticator(), { name: 'First' });
    for (const body of [{ response }, { name: '', response }, { name: 'x'.repeat(101), response }, { name: 'Key' }, { name: 'Key', response: { id: 'x' } }, { name: 'Key', response, extra: 1 }]) {
      const res = await h.call('POST', '/v1/me/passkeys', { token: user.token, body });
      expectProblem(res, 422);
    }
    const garbage = { ...(response as any), response: { ...(response as any).response, clientDataJSON: b64url(new TextEncoder().encode('not json')) } };
    const res = await h.call('POST', '/v1/me/passkeys', { token: user.token, body: { name: 'Key', response: garbage } });
    expectProblem(res, 422);
    expect(res.body.errors).toEqual([{ path: 'response', message: expect.any(String) }]);
    expect(await passkeyRows(user.id)).toHaveLength(1);
  });
});

describe('sign-in', () => {
  it('answers request options without allowCredentials, and signs in with amr ["pop","mfa"]', async () => {
    const user = await userWithToken(h);
    const { authenticator, res: added } = await addPasskey(h, user.token);
    const options = await h.call('POST', '/v1/auth/passkey/options');
    expect(options.status).toBe(200);
    expectWithinBudget('POST /v1/auth/passkey/options', options);
    expect(options.body).toMatchObject({ rpId: 'api.test', userVerification: 'required', timeout: 300_000 });
    expect(options.body.allowCredentials).toBeUndefined();

    const response = await authenticator.get(options.body, { origin: ORIGIN });
    const res = await h.call('POST', '/v1/auth/passkey', { body: { response } });
    expect(res.status, res.text).toBe(200);
    expectWithinBudget('POST /v1/auth/passkey', res);
    expect(res.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, user: { id: user.id, email: user.email } });
    expect(claims(res.body.accessToken)).toMatchObject({ sub: String(user.id), amr: ['pop', 'mfa'] });
    const [row] = await passkeyRows(user.id);
    expect(row).toMatchObject({ id: added.body.id, counter: '1', last_used_at: expect.any(String) });
    const [session] = await h.query<{ amr: string[] }>('select amr from sessions where id = $1', [claims(res.body.accessToken).sid]);
    expect(session!.amr).toEqual(['pop', 'mfa']);
    expect((await audit('auth.login', user.id)).at(-1)!.details).toMatchObject({ method: 'passkey', passkeyId: added.body.id });

    // The session works, and a refreshed token says the same amr.
    expect((await h.call('GET', '/v1/me', { token: res.body.accessToken })).status).toBe(200);
    const refreshed = await h.call('POST', '/v1/auth/refresh', { body: { refreshToken: res.body.refreshToken } });
    expect(claims(refreshed.body.accessToken).amr).toEqual(['pop', 'mfa']);
    const list = await h.call('GET', '/v1/me/passkeys', { token: res.body.accessToken });
    expect(list.body.data[0].lastUsedAt).toMatch(/Z$/);
  });

  const refusals: [string, Parameters<typeof passkeySignIn>[2]][] = [
    ['a wrong origin', { origin: 'https://evil.example' }],
    ['a wrong RP id', { rpId: 'evil.example' }],
    ['user verification missing', { userVerified: false }],
    ['a registration type', { type: 'webauthn.create' }],
    ['a challenge the server never issued', { challenge: b64url(crypto.getRandomValues(new Uint8Array(32))) }],
  ];
  it.each(refusals)('refuses %s: 401, no session', async (_, ceremony) => {
    const user = await userWithToken(h);
    const { authenticator } = await addPasskey(h, user.token);
    const { res } = await passkeySignIn(h, authenticator, ceremony);
    expectProblem(res, 401);
    expectWithinBudget('POST /v1/auth/passkey', res);
    expect(await h.query("select 1 from sessions where user_id = $1 and amr = '{pop,mfa}'", [user.id])).toEqual([]);
    expect((await audit('auth.login_failed', user.id)).at(-1)!.details).toMatchObject({ method: 'passkey' });
    expect((await passkeyRows(user.id))[0]!.last_used_at).toBeNull();
  });

  it('refuses a replayed challenge: the same assertion signs in once', async () => {
    const user = await userWithToken(h);
    const { authenticator } = await addPasskey(h, user.token);
    const { res, response } = await passkeySignIn(h, authenticator);
    expect(res.status).toBe(200);
    expectProblem(await h.call('POST', '/v1/auth/passkey', { body: { response } }), 401);
    // Concurrent copies of one fresh assertion: one session.
    const options = (await h.call('POST', '/v1/auth/passkey/options')).body;
    const fresh = await authenticator.get(options, { origin: ORIGIN });
    const results = await Promise.all([1, 2, 3].map(() => h.call('POST', '/v1/auth/passkey', { body: { response: fresh } })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401]);
    expect(await h.query("select 1 from sessions where user_id = $1 and amr = '{pop,mfa}'", [user.id])).toHaveLength(2);
  });

  it('refuses a counter that goes backwards (a possible clone): 401 and auth.passkey_counter', async () => {
    const user = await userWithToken(h);
    const { authenticator, res: added } = await addPasskey(h, user.token);
    for (let i = 0; i < 3; i++) expect((await passkeySignIn(h, authenticator)).res.status).toBe(200);
    const credential = authenticator.credentials[0]!;
    for (const counter of [3, 2]) {
      const options = (await h.call('POST', '/v1/auth/passkey/options')).body;
      const response = await authenticator.assert(credential, options.challenge, { origin: ORIGIN }, counter);
      const res = await h.call('POST', '/v1/auth/passkey', { body: { response } });
      expectProblem(res, 401);
    }
    const events = await audit('auth.passkey_counter', user.id);
    expect(events.map((e) => e.details)).toEqual([
      expect.objectContaining({ passkeyId: added.body.id, stored: 3, received: 3 }),
      expect.objectContaining({ passkeyId: added.body.id, stored: 3, received: 2 }),
    ]);
    expect((await passkeyRows(user.id))[0]!.counter).toBe('3');
    // The authenticator's own next value still works.
    expect((await passkeySignIn(h, authenticator)).res.status).toBe(200);
  });

  it('accepts a counter that stays 0 (synced passkeys), every time', async () => {
    const user = await userWithToken(h);
    const { authenticator } = await addPasskey(h, user.token, new SoftAuthenticator(0));
    for (let i = 0; i < 2; i++) expect((await passkeySignIn(h, authenticator)).res.status).toBe(200);
    expect((await passkeyRows(user.id))[0]!.counter).toBe('0');
    expect(await audit('auth.passkey_counter', user.id)).toEqual([]);
  });

  it('refuses an unknown credential, and a credential presented as another account', async () => {
    const a = await userWithToken(h);
    const b = await userWithToken(h);
    const { authenticator } = await addPasskey(h, a.token);
    // Never registered.
    const stranger = new SoftAuthenticator();
    await stranger.create({ challenge: 'x', rp: { id: 'api.test' }, user: { id: b64url(new TextEncoder().encode(String(a.id))) } }, { origin: ORIGIN });
    expectProblem((await passkeySignIn(h, stranger)).res, 401);
    // A's credential, claiming B's user handle.
    authenticator.credentials[0]!.userHandle = b64url(new TextEncoder().encode(String(b.id)));
    const { res } = await passkeySignIn(h, authenticator);
    expectProblem(res, 401);
    expect(await h.query("select 1 from sessions where user_id = any($1) and amr = '{pop,mfa}'", [[a.id, b.id]])).toEqual([]);
    // Another account's key pair under A's credential id (a forged signature): refused too.
    const forger = new SoftAuthenticator();
    await forger.create({ challenge: 'x', rp: { id: 'api.test' }, user: { id: b64url(new TextEncoder().encode(String(a.id))) } }, { origin: ORIGIN });
    forger.credentials[0]!.id = authenticator.credentials[0]!.id;
    expectProblem((await passkeySignIn(h, forger)).res, 401);
  });

  it('answers 403 for a disabled account only after a valid assertion', async () => {
    const user = await userWithToken(h);
    const { authenticator } = await addPasskey(h, user.token);
    await h.query('update users set disabled = true where id = $1', [user.id]);
    expectProblem((await passkeySignIn(h, authenticator, { userVerified: false })).res, 401);
    const { res } = await passkeySignIn(h, authenticator);
    expectProblem(res, 403);
    expect(res.body.detail).toMatch(/disabled/);
    expect((await audit('auth.login_failed', user.id)).at(-1)!.details).toMatchObject({ reason: 'disabled', method: 'passkey' });
  });

  it('is not held back by the email lockout of §3, and its failures do not count towards it', async () => {
    const user = await userWithToken(h);
    const { authenticator } = await addPasskey(h, user.token);
    for (let i = 0; i < 5; i++) await h.call('POST', '/v1/auth/login', { body: { email: user.email, password: 'wrong password!' } });
    expect((await h.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password } })).status).toBe(429);
    expect((await passkeySignIn(h, authenticator)).res.status).toBe(200);

    const other = await createUser(h);
    const pair = await signIn(h, other);
    const { authenticator: second } = await addPasskey(h, pair.accessToken);
    for (let i = 0; i < 6; i++) expectProblem((await passkeySignIn(h, second, { origin: 'https://evil.example' })).res, 401);
    expect((await h.call('POST', '/v1/auth/login', { body: { email: other.email, password: other.password } })).status).toBe(200);
  });

  it('validates the body', async () => {
    for (const body of [{}, { response: {} }, { response: { id: 'AA', rawId: 'AA', type: 'public-key', response: {} } }, { response: 'x' }]) {
      expectProblem(await h.call('POST', '/v1/auth/passkey', { body }), 422);
    }
    const junk = { id: 'AA', rawId: 'AA', type: 'public-key', response: { clientDataJSON: 'AA', authenticatorData: 'AA', signature: 'AA' } };
    expectProblem(await h.call('POST', '/v1/auth/passkey', { body: { response: junk } }), 401);
  });
});

describe('removal', () => {
  it('removes the caller’s passkey (notice, audit), which then no longer signs in; sessions it opened live on', async () => {
    const user = await userWithToken(h);
    const { authenticator, res: added } = await addPasskey(h, user.token);
    const session = (await passkeySignIn(h, authenticator)).res.body;
    const other = await userWithToken(h);
    expectProblem(await h.call('DELETE', `/v1/me/passkeys/${added.body.id}`, { token: other.token }), 404);
    for (const id of ['0', 'abc', '99999999999', '-1']) expectProblem(await h.call('DELETE', `/v1/me/passkeys/${id}`, { token: user.token }), 404);

    const res = await h.call('DELETE', `/v1/me/passkeys/${added.body.id}`, { token: user.token });
    expect(res.status).toBe(204);
    expectWithinBudget('DELETE /v1/me/passkeys/:id', res);
    expect(await passkeyRows(user.id)).toEqual([]);
    expect(await audit('passkey.remove', user.id)).toEqual([{ actor_id: user.id, details: { passkeyId: added.body.id, name: 'Laptop' } }]);
    expect((await mailbox(h, user.email)).map((m) => m.subject)).toContainEqual(expect.stringContaining('A passkey was removed'));
    expectProblem(await h.call('DELETE', `/v1/me/passkeys/${added.body.id}`, { token: user.token }), 404);
    expectProblem((await passkeySignIn(h, authenticator)).res, 401);
    expect((await h.call('GET', '/v1/me', { token: session.accessToken })).status).toBe(200);
  });
});

describe('MFA_REQUIRED_ROLES', () => {
  it('a gated caller may enrol a passkey, and a passkey session satisfies the policy', async () => {
    const gated = h.with({ MFA_REQUIRED_ROLES: 'analyst' });
    const user = await createUser(gated, { roles: ['analyst'] });
    const pair = await signIn(gated, user);
    const refused = await gated.call('GET', '/v1/users', { token: pair.accessToken });
    expectProblem(refused, 403);
    expect(refused.body.detail).toMatch(/passkey/);
    const { res, authenticator } = await addPasskey(gated, pair.accessToken);
    expect(res.status).toBe(201);
    expect((await gated.call('GET', '/v1/me/passkeys', { token: pair.accessToken })).status).toBe(200);
    const { res: signedIn } = await passkeySignIn(gated, authenticator);
    expect(signedIn.status).toBe(200);
    expect((await gated.call('GET', '/v1/users', { token: signedIn.body.accessToken })).status).toBe(200);
  });
});

describe('relying party', () => {
  it('is APP_URL’s host name and origin outside the dev transport, whatever host the request came to', async () => {
    const deployed = h.with({
      APP_URL: 'https://console.example.com/',
      EMAIL_TRANSPORT: 'resend',
      RESEND_API_KEY: `re_test_${crypto.randomUUID()}`,
      EMAIL_FROM: 'Dashboard <no-reply@example.com>',
      RESEND_API_URL: h.env.TEST_RESEND_URL,
    });
    const user = await userWithToken(deployed);
    const options = await deployed.call('POST', '/v1/me/passkeys/options', { token: user.token });
    expect(options.body.rp.id).toBe('console.example.com');
    const { res, authenticator } = await addPasskey(deployed, user.token, new SoftAuthenticator(), { ceremony: { origin: 'https://console.example.com' } });
    expect(res.status, res.text).toBe(201);
    expectProblem((await passkeySignIn(deployed, authenticator, { origin: ORIGIN })).res, 401);
    const { res: signedIn, options: request } = await passkeySignIn(deployed, authenticator, { origin: 'https://console.example.com' });
    expect(request.rpId).toBe('console.example.com');
    expect(signedIn.status).toBe(200);
  });

  it('follows the request under the dev transport (npm run dev), e.g. on localhost', async () => {
    const options = await h.call('POST', '/v1/auth/passkey/options', { host: 'localhost:8787' });
    expect(options.body.rpId).toBe('localhost');
    expect(await challenges()).toBeGreaterThan(0);
  });
});

it('the hourly purge removes expired challenges and keeps live ones', async () => {
  const user = await userWithToken(h);
  await h.query(
    `insert into passkey_challenges (challenge_hash, purpose, user_id, expires_at) values
       (sha256('pk-old'), 'authentication', null, now() - interval '1 minute'), (sha256('pk-live'), 'registration', $1, now() + interval '4 minutes')`,
    [user.id],
  );
  const ctx = createExecutionContext();
  await worker.scheduled!(createScheduledController({ cron: PURGE_CRON, scheduledTime: Date.now() }), h.env, ctx);
  await waitOnExecutionContext(ctx);
  const left = await h.query<{ purpose: string }>("select purpose from passkey_challenges where challenge_hash in (sha256('pk-old'), sha256('pk-live'))");
  expect(left).toEqual([{ purpose: 'registration' }]);
});
