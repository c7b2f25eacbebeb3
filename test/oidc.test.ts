/**
 * Contract §18: single sign-on with OpenID Connect, through a real provider (oidc-provider, `local`) and a
 * hand-written one that bends its ID tokens on request (`rogue`), both started by test/oidc-setup.ts.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { expectProblem } from './expect';
import { createHarness, createUser, uniqueEmail, type Harness } from './harness';
import { atProvider, callback, landing, signInThrough, startSignIn } from './oidc-flow';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.drop());

const sha256Hex = async (text: string) =>
  [...new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)))].map((b) => b.toString(16).padStart(2, '0')).join('');
const claims = (jwt: string) => JSON.parse(atob(jwt.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')));
const exchange = (code: string | null, harness = h) => harness.call('POST', '/v1/auth/oidc/exchange', { body: { code } });
const providersWith = (changes: Record<string, unknown>) =>
  JSON.stringify(JSON.parse(h.env.OIDC_PROVIDERS!).map((p: Record<string, unknown>) => ({ ...p, ...changes })));
const count = async (text: string, params: unknown[] = []) => (await h.query<{ n: number }>(text, params))[0]!.n;
const audit = (action: string, email: string) =>
  h.query<{ details: Record<string, unknown>; target_id: string | null }>(
    `select details, target_id from audit_events where action = $1 and (details->>'provider') is not null
       and target_id = (select id::text from users where email = $2) order by id desc`,
    [action, email],
  );

describe('GET /v1/auth/oidc/providers', () => {
  it('lists the configured providers, id and name only', async () => {
    const res = await h.call('GET', '/v1/auth/oidc/providers');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: [{ id: 'local', name: 'Local provider' }, { id: 'rogue', name: 'Rogue provider' }] });
  });

  it('is empty without OIDC_PROVIDERS', async () => {
    const res = await h.with({ OIDC_PROVIDERS: undefined }).call('GET', '/v1/auth/oidc/providers');
    expect(res.body).toEqual({ data: [] });
  });
});

describe('GET /v1/auth/oidc/:id/start', () => {
  it('redirects to the provider: code flow, PKCE S256, state and nonce stored only hashed, a binding cookie', async () => {
    const { authorize, cookie, start } = await startSignIn(h, 'local', { redirect: '/console/users' });
    const p = authorize.searchParams;
    expect(p.get('response_type')).toBe('code');
    expect(p.get('client_id')).toBe('local');
    expect(p.get('scope')).toBe('openid email profile');
    expect(p.get('code_challenge_method')).toBe('S256');
    expect(p.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(p.get('redirect_uri')).toBe('http://api.test/v1/auth/oidc/local/callback');
    const state = p.get('state')!;
    const nonce = p.get('nonce')!;
    expect(cookie).toBe(`oidc_nonce=${nonce}`);
    const setCookie = start.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/Path=\/v1\/auth\/oidc\//);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    expect(setCookie).toMatch(/Max-Age=600/);
    const rows = await h.query<{ provider: string; return_to: string; ttl: number; raw: boolean }>(
      `select provider, return_to, extract(epoch from expires_at - now())::int as ttl,
         position(convert_to($2, 'utf8') in state_hash::bytea) > 0 as raw
       from oidc_states where state_hash = decode($1, 'hex') and nonce_hash = decode($3, 'hex')`,
      [await sha256Hex(state), state, await sha256Hex(nonce)],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ provider: 'local', return_to: '/console/users', raw: false });
    expect(rows[0]!.ttl).toBeGreaterThan(590);
    expect(rows[0]!.ttl).toBeLessThanOrEqual(600);
  });

  it('an unknown provider → 404', async () => {
    expectProblem(await h.call('GET', '/v1/auth/oidc/nope/start'), 404);
  });

  it.each(['//evil.example', 'https://evil.example', '/\\evil', '/\\/evil.example', 'evil.example', ' /console/', '/console/\n', 'javascript:alert(1)', '/console/#x'])(
    'refuses the open redirect %j: 422 on `redirect`, nothing stored, no cookie',
    async (redirect) => {
      const before = await count('select count(*)::int as n from oidc_states');
      const res = await h.call('GET', `/v1/auth/oidc/local/start?redirect=${encodeURIComponent(redirect)}`);
      expectProblem(res, 422);
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain('redirect');
      expect(res.headers.get('set-cookie')).toBeNull();
      const after = await count('select count(*)::int as n from oidc_states');
      expect(after).toBe(before);
    },
  );

  it('a provider that cannot be reached: back to `redirect` with error=provider_unavailable', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const down = h.with({ OIDC_PROVIDERS: JSON.stringify([{ id: 'down', name: 'Down', issuer: 'http://127.0.0.1:9/', clientId: 'x', allowedDomains: ['example.com'] }]), OIDC_DOWN_CLIENT_SECRET: 's' } as never);
    const res = await down.call('GET', '/v1/auth/oidc/down/start?redirect=/console/roles');
    errors.mockRestore();
    expect(landing(res)).toMatchObject({ error: 'provider_unavailable' });
    expect(landing(res).to.pathname).toBe('/console/roles');
  });
});

describe('a sign-in through the real provider', () => {
  it('links an existing account by its verified email and hands out a one-time code for a TokenPair with amr ["fed"]', async () => {
    const user = await createUser(h, { roles: ['analyst'] });
    const { to, code, error, res } = await signInThrough(h, 'local', user.email, { redirect: '/console/users?x=1' });
    expect(error).toBeNull();
    expect(to.origin + to.pathname).toBe('http://api.test/console/users');
    expect(to.searchParams.get('x')).toBe('1');
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The binding cookie is cleared; no token in the URL (the code is not one: it only buys the exchange).
    expect(res.headers.get('set-cookie')).toMatch(/oidc_nonce=;.*Max-Age=0/i);
    const pair = await exchange(code);
    expect(pair.status, pair.text).toBe(200);
    expect(pair.body.user).toMatchObject({ id: user.id, email: user.email, roles: ['analyst'] });
    expect(claims(pair.body.accessToken)).toMatchObject({ sub: String(user.id), amr: ['fed'] });
    const me = await h.call('GET', '/v1/me', { token: pair.body.accessToken });
    expect(me.status).toBe(200);
    // A refreshed access token says the same about how the session was opened.
    const refreshed = await h.call('POST', '/v1/auth/refresh', { body: { refreshToken: pair.body.refreshToken } });
    expect(claims(refreshed.body.accessToken).amr).toEqual(['fed']);
    const [login] = await audit('auth.login', user.email);
    expect(login!.details).toMatchObject({ method: 'oidc', provider: 'local', sessionId: claims(pair.body.accessToken).sid });
    const links = await h.query('select provider, subject, email from oidc_identities where user_id = $1', [user.id]);
    expect(links).toEqual([{ provider: 'local', subject: user.email, email: user.email }]);
    const n = await count('select count(*)::int as n from oidc_codes where user_id = $1 and used_at is not null', [user.id]);
    expect(n).toBe(1);
  });

  it('the one-time code works once (a replay, or a racing second exchange, is a 401)', async () => {
    const user = await createUser(h);
    const { code } = await signInThrough(h, 'local', user.email);
    const results = await Promise.all([exchange(code), exchange(code), exchange(code)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401]);
    expectProblem(await exchange(code), 401);
    const n = await count('select count(*)::int as n from sessions where user_id = $1', [user.id]);
    expect(n).toBe(1);
  });

  it('an unknown or expired code is a 401; a malformed body a 422', async () => {
    expectProblem(await exchange('x'.repeat(43)), 401);
    const user = await createUser(h);
    const { code } = await signInThrough(h, 'local', user.email);
    await h.query(`update oidc_codes set expires_at = now() - interval '1 second' where user_id = $1`, [user.id]);
    expectProblem(await exchange(code), 401);
    expectProblem(await h.call('POST', '/v1/auth/oidc/exchange', { body: {} }), 422);
    expectProblem(await h.call('POST', '/v1/auth/oidc/exchange', { body: { code: 'a', extra: 1 } }), 422);
  });

  it("the callback's URL replayed: the state is used up (invalid_state)", async () => {
    const user = await createUser(h);
    const { back, started } = await signInThrough(h, 'local', user.email);
    expect(landing(await callback(h, back, started.cookie))).toMatchObject({ error: 'invalid_state', code: null });
  });

  it("the provider's code replayed under a fresh state: the provider refuses it (provider_error), no code", async () => {
    const user = await createUser(h);
    const first = await signInThrough(h, 'local', user.email);
    expect(first.code).not.toBeNull();
    const again = await startSignIn(h, 'local', { loginHint: user.email });
    const forged = new URL(first.back);
    forged.searchParams.set('state', again.authorize.searchParams.get('state')!);
    expect(landing(await callback(h, forged, again.cookie))).toMatchObject({ error: 'provider_error', code: null });
  });

  it('a wrong state, or the right state without this browser\'s nonce cookie: invalid_state, to the sign-in page', async () => {
    const user = await createUser(h);
    const started = await startSignIn(h, 'local', { loginHint: user.email, redirect: '/console/roles' });
    const back = await atProvider(started.authorize);
    const wrong = new URL(back);
    wrong.searchParams.set('state', 'not-the-state');
    let landed = landing(await callback(h, wrong, started.cookie));
    expect(landed).toMatchObject({ error: 'invalid_state' });
    expect(landed.to.pathname).toBe('/console/sign-in');
    landed = landing(await callback(h, back, undefined));
    expect(landed).toMatchObject({ error: 'invalid_state' });
    expect(landing(await callback(h, back, 'oidc_nonce=another-browser'))).toMatchObject({ error: 'invalid_state' });
    // The sign-in was not used up by those: the real browser still completes it.
    expect(landing(await callback(h, back, started.cookie)).code).not.toBeNull();
  });

  it('an expired sign-in (over 10 minutes at the provider): invalid_state', async () => {
    const user = await createUser(h);
    const started = await startSignIn(h, 'local', { loginHint: user.email });
    const back = await atProvider(started.authorize);
    await h.query(`update oidc_states set expires_at = now() - interval '1 second' where state_hash = decode($1, 'hex')`, [
      await sha256Hex(started.authorize.searchParams.get('state')!),
    ]);
    expect(landing(await callback(h, back, started.cookie))).toMatchObject({ error: 'invalid_state' });
  });

  it('the provider reporting an error (the user cancelled): access_denied, back to `redirect`', async () => {
    const started = await startSignIn(h, 'local', { redirect: '/console/audit' });
    const back = new URL('http://api.test/v1/auth/oidc/local/callback');
    back.searchParams.set('error', 'access_denied');
    // RFC 9207: the provider names itself (it says it does, in its discovery document).
    back.searchParams.set('iss', JSON.parse(h.env.OIDC_PROVIDERS!)[0].issuer);
    back.searchParams.set('state', started.authorize.searchParams.get('state')!);
    const landed = landing(await callback(h, back, started.cookie));
    expect(landed).toMatchObject({ error: 'access_denied', code: null });
    expect(landed.to.pathname).toBe('/console/audit');
  });

  it('an unverified email never links: email_unverified, no session, the failure audited', async () => {
    const email = uniqueEmail('unverified');
    const user = await createUser(h, { email });
    const { error, code } = await signInThrough(h, 'local', email);
    expect({ error, code }).toEqual({ error: 'email_unverified', code: null });
    expect(await h.query('select 1 from oidc_identities where user_id = $1', [user.id])).toEqual([]);
    const n = await count(
      `select count(*)::int as n from audit_events where action = 'auth.login_failed' and details->>'reason' = 'email_unverified' and details->>'provider' = 'local'`,
    );
    expect(n).toBeGreaterThan(0);
  });

  it('an email outside the allowed domains: domain_not_allowed, nothing created', async () => {
    const email = `someone-${crypto.randomUUID().slice(0, 8)}@other.example`;
    const { error } = await signInThrough(h, 'local', email);
    expect(error).toBe('domain_not_allowed');
    expect(await h.query('select 1 from users where email = $1', [email])).toEqual([]);
  });

  it('a new verified email creates an account where allowed: the roles configured, verified, no password, audited', async () => {
    const email = uniqueEmail('newcomer');
    const { code } = await signInThrough(h, 'local', email);
    const pair = await exchange(code);
    expect(pair.status, pair.text).toBe(200);
    expect(pair.body.user).toMatchObject({ email, roles: ['viewer'], emailVerified: true, invited: false, disabled: false });
    expect(pair.body.user.name).toMatch(/^newcomer /);
    const [created] = await audit('user.register', email);
    expect(created!.details).toMatchObject({ method: 'oidc', provider: 'local', roles: ['viewer'] });
    // No password works for it.
    expectProblem(await h.call('POST', '/v1/auth/login', { body: { email, password: '!sso' } }), 401);
  });

  it('creation refused where the provider may not create accounts: no_account, nothing created', async () => {
    const strict = h.with({ OIDC_PROVIDERS: providersWith({ createAccounts: false }) });
    const email = uniqueEmail('stranger');
    const { error, code } = await signInThrough(strict, 'local', email);
    expect({ error, code }).toEqual({ error: 'no_account', code: null });
    expect(await h.query('select 1 from users where email = $1', [email])).toEqual([]);
    // An existing account still signs in through it.
    const user = await createUser(h);
    expect((await signInThrough(strict, 'local', user.email)).code).not.toBeNull();
  });

  it('a role that does not exist: no account is created (no_account), the misconfiguration logged', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const wrong = h.with({ OIDC_PROVIDERS: providersWith({ roles: ['no-such-role'] }) });
    const email = uniqueEmail('norole');
    const { error } = await signInThrough(wrong, 'local', email);
    const logged = errors.mock.calls.map((c) => String(c[0]));
    errors.mockRestore();
    expect(error).toBe('no_account');
    expect(logged.some((l) => l.includes('names a role that does not exist'))).toBe(true);
    expect(await h.query('select 1 from users where email = $1', [email])).toEqual([]);
  });

  it('a disabled account is refused as §3 (account_disabled), and one disabled before the exchange gets a 403', async () => {
    const user = await createUser(h, { disabled: true });
    expect((await signInThrough(h, 'local', user.email)).error).toBe('account_disabled');
    const later = await createUser(h);
    const { code } = await signInThrough(h, 'local', later.email);
    await h.query('update users set disabled = true where id = $1', [later.id]);
    const res = await exchange(code);
    expectProblem(res, 403);
    expect(res.body.type).toMatch(/account-disabled$/);
    const n = await count('select count(*)::int as n from sessions where user_id = $1', [later.id]);
    expect(n).toBe(0);
  });

  it('an email the provider now gives to another subject does not open the account linked to the first one', async () => {
    const user = await createUser(h);
    expect((await signInThrough(h, 'local', user.email)).code).not.toBeNull();
    // As if the provider had reassigned the address: the account's link names another subject.
    await h.query(`update oidc_identities set subject = 'the-previous-holder' where user_id = $1`, [user.id]);
    expect(await signInThrough(h, 'local', user.email)).toMatchObject({ error: 'no_account', code: null });
    expect(await h.query('select subject from oidc_identities where user_id = $1', [user.id])).toEqual([{ subject: 'the-previous-holder' }]);
  });

  it('once linked, the provider subject finds the account even when its email here has changed', async () => {
    const user = await createUser(h);
    expect((await signInThrough(h, 'local', user.email)).code).not.toBeNull();
    await h.query('update users set email = $2 where id = $1', [user.id, uniqueEmail('moved')]);
    const { code } = await signInThrough(h, 'local', user.email);
    expect((await exchange(code)).body.user.id).toBe(user.id);
  });
});

describe('ID tokens that must be refused (the hand-written provider)', () => {
  it('a well-formed one passes (so each refusal below is the bent claim, not the provider)', async () => {
    const user = await createUser(h);
    const { code } = await signInThrough(h, 'rogue', `ok:${user.email}`);
    expect((await exchange(code)).body.user.id).toBe(user.id);
  });

  it.each([
    ['other-key', 'signed by a key outside the JWKS'],
    ['expired', 'expired'],
    ['wrong-aud', 'for another audience'],
    ['wrong-nonce', 'with another nonce'],
    ['wrong-iss', 'from another issuer'],
  ])('%s (%s): id_token_invalid, no code, audited', async (mode) => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const user = await createUser(h);
    const { error, code } = await signInThrough(h, 'rogue', `${mode}:${user.email}`);
    errors.mockRestore();
    expect({ error, code }).toEqual({ error: 'id_token_invalid', code: null });
    expect(await h.query('select 1 from oidc_codes where user_id = $1', [user.id])).toEqual([]);
    expect(await h.query('select 1 from oidc_identities where user_id = $1', [user.id])).toEqual([]);
  });

  it('email_verified as the string "true" is not verified', async () => {
    const user = await createUser(h);
    expect((await signInThrough(h, 'rogue', `string-verified:${user.email}`)).error).toBe('email_unverified');
  });
});

describe('emailVerifiedClaim (Microsoft Entra ID sends xms_edov, no email_verified)', () => {
  it('by default such a token has no verified email; with emailVerifiedClaim "xms_edov" it signs in', async () => {
    const user = await createUser(h);
    expect((await signInThrough(h, 'rogue', `entra:${user.email}`)).error).toBe('email_unverified');
    const entra = h.with({ OIDC_PROVIDERS: providersWith({ emailVerifiedClaim: 'xms_edov' }) });
    const { code } = await signInThrough(entra, 'rogue', `entra:${user.email}`);
    expect((await exchange(code, entra)).body.user.id).toBe(user.id);
    // And then a token without it is not verified.
    expect((await signInThrough(entra, 'rogue', `ok:${user.email}`)).error).toBe('email_unverified');
  });
});

describe('OIDC_PROVIDERS, validated once', () => {
  it.each([
    ['not JSON', '{'],
    ['an http issuer off loopback', JSON.stringify([{ id: 'x', name: 'X', issuer: 'http://idp.example.com', clientId: 'c', allowedDomains: ['example.com'] }])],
    ['no allowed domain', JSON.stringify([{ id: 'x', name: 'X', issuer: 'https://idp.example.com', clientId: 'c', allowedDomains: [] }])],
    ['an unknown field', JSON.stringify([{ id: 'x', name: 'X', issuer: 'https://idp.example.com', clientId: 'c', allowedDomains: ['example.com'], clientSecret: 'inline' }])],
    ['two providers with one id', JSON.stringify([1, 2].map(() => ({ id: 'x', name: 'X', issuer: 'https://idp.example.com', clientId: 'c', allowedDomains: ['example.com'] })))],
    ['a missing secret', JSON.stringify([{ id: 'acme-sso', name: 'Acme', issuer: 'https://idp.example.com', clientId: 'c', allowedDomains: ['example.com'] }])],
  ])('%s: every request 500, the log line names the variable', async (_, value) => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const res = await h.with({ OIDC_PROVIDERS: value }).call('GET', '/v1/auth/oidc/providers');
    const logged = errors.mock.calls.map((c) => String(c[0])).join('\n');
    errors.mockRestore();
    expectProblem(res, 500);
    expect(logged).toMatch(value.includes('acme-sso') ? /OIDC_ACME_SSO_CLIENT_SECRET: is required by OIDC_PROVIDERS/ : /OIDC_PROVIDERS/);
  });
});
