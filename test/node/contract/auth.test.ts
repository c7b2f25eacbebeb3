/**
 * The HTTP contract, §3 auth: register, login, lockout, access and refresh tokens, logout.
 * The live stack and the checks every answer gets: ./fixtures.ts.
 */
import { createHash } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  analystEmail, b64url, base, call, closedWorker, db, email, expectPair, expectStatus, get, ISO, login, mint, post,
  PW, register, ROOT, root, secondJwk, signingJwk, viewer, useContractStack
} from './fixtures';

useContractStack({ closedWorker: true });

describe('§3 auth', () => {
  it('register → 201 TokenPair with the default role; 409 on a taken email; lastLoginAt stays null', async () => {
    const mail = email('ada');
    const res = await post('/v1/auth/register', { name: 'Ada', email: mail, password: PW });
    expectStatus(res, 201);
    const pair = expectPair(res.body);
    expect(pair.user).toMatchObject({ name: 'Ada', email: mail, roles: ['viewer'], disabled: false, lastLoginAt: null });
    const me = await get('/v1/me', pair.accessToken);
    expect(me.body).toEqual({ ...pair.user, permissions: [] });
    expectStatus(await post('/v1/auth/register', { name: 'Ada 2', email: mail.toUpperCase(), password: 'another long password' }), 409);
  });

  it('register: concurrent sign-ups with one email yield exactly one account', async () => {
    const mail = email('race');
    const results = await Promise.all(Array.from({ length: 8 }, () => post('/v1/auth/register', { name: 'Race', email: mail, password: PW })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(7);
    expect(await db('select 1 from users where email = $1', [mail])).toHaveLength(1);
  });

  it('register is 403 when signup is disabled (ALLOW_SIGNUP=false)', async () => {
    const closed = await closedWorker;
    const mail = email('closed');
    const res = await call('POST', '/v1/auth/register', { json: { name: 'Closed', email: mail, password: PW }, base: closed.url });
    expectStatus(res, 403);
    // Even with a body that would not validate: nothing about the body matters then.
    expectStatus(await call('POST', '/v1/auth/register', { json: {}, base: closed.url }), 403);
    expect(await db('select 1 from users where email = $1', [mail])).toHaveLength(0);
    // Sign-in still works there.
    expectStatus(await call('POST', '/v1/auth/login', { json: { email: ROOT.email, password: ROOT.password }, base: closed.url }), 200);
  }, 120_000);

  it('lifetimes and the lockout window are configurable; a session expires, a lock lifts when its window passes', async () => {
    const closed = await closedWorker;
    const at = (path: string, json: unknown) => call('POST', path, { json, base: closed.url });
    const mail = email('short');
    await register('Short', mail);
    const res = await at('/v1/auth/login', { email: mail, password: PW });
    expectStatus(res, 200);
    expect(res.body.expiresIn).toBe(60);
    const claims = JSON.parse(Buffer.from(res.body.accessToken.split('.')[1], 'base64url').toString());
    expect(claims.exp - claims.iat).toBe(60);
    // Its tokens verify on the other Worker too (same published keys).
    expectStatus(await get('/v1/me', res.body.accessToken), 200);

    const locked = email('window');
    for (let i = 0; i < 5; i++) expectStatus(await at('/v1/auth/login', { email: locked, password: `wrong password ${i}` }), 401);
    const refused = await at('/v1/auth/login', { email: locked, password: 'wrong password x' });
    expectStatus(refused, 429);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(3);

    await new Promise((r) => setTimeout(r, 3500));
    expectStatus(await at('/v1/auth/refresh', { refreshToken: res.body.refreshToken }), 401);
    // Its access token is refused too: the session it belongs to has expired (decided at request time, v2 §8).
    expectStatus(await get('/v1/me/sessions', res.body.accessToken), 401);
    expectStatus(await at('/v1/auth/login', { email: locked, password: 'wrong password y' }), 401);
  }, 120_000);

  it('login → 200 TokenPair and sets lastLoginAt', async () => {
    const mail = email('login');
    const reg = await register('Login', mail);
    const pair = await login(mail);
    expect(pair.user.id).toBe(reg.user.id);
    expect(pair.user.lastLoginAt).toMatch(ISO);
    expect(Math.abs(Date.parse(pair.user.lastLoginAt) - Date.now())).toBeLessThan(60_000);
    expect(pair.refreshToken).not.toBe(reg.refreshToken);
  });

  it('login: 401 with the same body for an unknown email and a wrong password, in about the same time', async () => {
    const mail = email('same');
    await register('Same', mail);
    const timed = async (body: unknown) => {
      const started = performance.now();
      const res = await post('/v1/auth/login', body);
      return { res, ms: performance.now() - started };
    };
    const wrong = [];
    const unknown = [];
    for (let i = 0; i < 4; i++) {
      wrong.push(await timed({ email: mail, password: `wrong password ${i}` }));
      unknown.push(await timed({ email: email('ghost'), password: `wrong password ${i}` }));
    }
    for (const { res } of [...wrong, ...unknown]) {
      expectStatus(res, 401);
      const { type, title, status, detail } = res.body;
      expect({ type, title, status, detail }).toEqual(wrong[0]!.res.body);
      expect(res.headers.get('content-type')).toBe(wrong[0]!.res.headers.get('content-type'));
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const a = median(wrong.map((x) => x.ms));
    const b = median(unknown.map((x) => x.ms));
    expect(Math.abs(a - b) < 100 || Math.max(a, b) / Math.min(a, b) < 3, `wrong ${a} ms, unknown ${b} ms`).toBe(true);
  });

  it('login: 403 for a disabled account, only after a correct password', async () => {
    const mail = email('disabled');
    const made = await post('/v1/users', { name: 'Dis', email: mail, password: PW, disabled: true }, root.accessToken);
    expectStatus(made, 201);
    expect(made.body.disabled).toBe(true);
    expectStatus(await post('/v1/auth/login', { email: mail, password: 'not the password' }), 401);
    expectStatus(await post('/v1/auth/login', { email: mail, password: PW }), 403);
  });

  it('login: after 5 failures for one email within the window, 429 with Retry-After whatever the password', async () => {
    const mail = email('lock');
    await register('Lock', mail);
    for (let i = 0; i < 5; i++) expectStatus(await post('/v1/auth/login', { email: mail, password: `wrong guess ${i}` }), 401);
    for (const password of [PW, 'wrong again!!']) {
      const res = await post('/v1/auth/login', { email: mail, password });
      expectStatus(res, 429);
      const retry = Number(res.headers.get('retry-after'));
      expect(retry).toBeGreaterThan(0);
      expect(retry).toBeLessThanOrEqual(15 * 60);
    }
    // Case and spaces do not make it another email.
    expectStatus(await post('/v1/auth/login', { email: ` ${mail.toUpperCase()} `, password: PW }), 429);
    // Another account is unaffected.
    await login(ROOT.email, ROOT.password);
  });

  it('login: a burst of concurrent wrong guesses gets at most 5 passwords checked', async () => {
    const mail = email('burst');
    await register('Burst', mail);
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => post('/v1/auth/login', { email: mail, password: `burst guess ${i}` })));
    expect(results.filter((r) => r.status === 401)).toHaveLength(5);
    expect(results.filter((r) => r.status === 429)).toHaveLength(7);
    expectStatus(await post('/v1/auth/login', { email: mail, password: PW }), 429);
  });

  it('access token: asymmetric JWT with kid; iss, aud, sub, roles, sid, iat, exp, jti; 15 minutes', async () => {
    const [h, p] = root.accessToken.split('.');
    const header = JSON.parse(Buffer.from(h!, 'base64url').toString());
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    expect(['ES256', 'EdDSA']).toContain(header.alg);
    expect(header.kid).toBe(signingJwk.kid);
    expect(claims).toMatchObject({
      iss: 'dashboard-analytics-api',
      aud: 'dashboard-analytics',
      sub: String(root.user.id),
      roles: ['admin'],
      sid: expect.any(String),
      amr: ['pwd'],
      iat: expect.any(Number),
      exp: expect.any(Number),
      jti: expect.any(String),
    });
    expect(claims.exp - claims.iat).toBe(900);
    const sessions = await get('/v1/me/sessions', root.accessToken);
    expect(sessions.body.data.find((s: any) => s.current)?.id).toBe(claims.sid);
  });

  it('verification pins algorithm, issuer, audience; allows 30 s of skew; accepts every published key', async () => {
    const sub = String(viewer.user.id);
    // A live session of that user: the token must name one (v2 §8: decided at request time).
    const sid = JSON.parse(Buffer.from(viewer.accessToken.split('.')[1]!, 'base64url').toString()).sid;
    const now = Math.floor(Date.now() / 1000);
    expectStatus(await get('/v1/me', await mint({ sub, sid, roles: ['viewer'] })), 200);
    // Skew: expired 10 s ago still passes, 90 s ago does not.
    expectStatus(await get('/v1/me', await mint({ sub, sid }, { iat: now - 900, exp: now - 10 })), 200);
    expectStatus(await get('/v1/me', await mint({ sub, sid }, { iat: now - 900, exp: now - 90 })), 401);
    expectStatus(await get('/v1/me', await mint({ sub, sid }, { iss: 'someone-else' })), 401);
    expectStatus(await get('/v1/me', await mint({ sub, sid }, { aud: 'another-api' })), 401);
    // Rotation: a token signed with the second published key verifies.
    expectStatus(await get('/v1/me', await mint({ sub, sid }, { key: secondJwk })), 200);
    // A key nobody published, or a published kid with another key's signature.
    const stranger = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const strangerJwk = { ...(await exportJWK(stranger.privateKey)), kid: 'stranger' } as JWK & { kid: string };
    expectStatus(await get('/v1/me', await mint({ sub, sid }, { key: strangerJwk })), 401);
    expectStatus(await get('/v1/me', await mint({ sub, sid }, { key: strangerJwk, kid: signingJwk.kid })), 401);
    // alg none, and HS256 keyed with the public key.
    const claims = { sub, roles: ['admin'], sid: 'x', iss: 'dashboard-analytics-api', aud: 'dashboard-analytics', iat: now, exp: now + 600, jti: 'j' };
    const none = `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT', kid: signingJwk.kid }))}.${b64url(JSON.stringify(claims))}.`;
    expectStatus(await get('/v1/me', none), 401);
    const hs = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: signingJwk.kid })
      .sign(new TextEncoder().encode(JSON.stringify({ kty: signingJwk.kty, crv: signingJwk.crv, x: signingJwk.x })));
    expectStatus(await get('/v1/me', hs), 401);
    // A tampered payload: a viewer who names themselves admin.
    const [h, , s] = viewer.accessToken.split('.');
    const original = JSON.parse(Buffer.from(viewer.accessToken.split('.')[1]!, 'base64url').toString());
    const forged = `${h}.${b64url(JSON.stringify({ ...original, roles: ['admin'] }))}.${s}`;
    expectStatus(await get('/v1/users', forged), 401);
  });

  it('refresh → a new pair; the old refresh token stops working; reuse revokes every token of that login', async () => {
    const mail = email('rot');
    await register('Rot', mail);
    const first = await login(mail);
    const other = await login(mail); // another login: must survive the theft response
    const second = await post('/v1/auth/refresh', { refreshToken: first.refreshToken });
    expectStatus(second, 200);
    const pair2 = expectPair(second.body);
    expect(pair2.refreshToken).not.toBe(first.refreshToken);
    expect(pair2.accessToken).not.toBe(first.accessToken);
    const sid = (t: string) => JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()).sid;
    expect(sid(pair2.accessToken)).toBe(sid(first.accessToken));
    const third = await post('/v1/auth/refresh', { refreshToken: pair2.refreshToken });
    expectStatus(third, 200);
    const pair3 = expectPair(third.body);
    // Theft: the rotated token again → 401, and the live descendant of that login dies with it.
    expectStatus(await post('/v1/auth/refresh', { refreshToken: first.refreshToken }), 401, 'unauthorized');
    expectStatus(await post('/v1/auth/refresh', { refreshToken: pair3.refreshToken }), 401);
    expectStatus(await post('/v1/auth/refresh', { refreshToken: pair2.refreshToken }), 401);
    // The other login is another session: untouched.
    expectStatus(await post('/v1/auth/refresh', { refreshToken: other.refreshToken }), 200);
  });

  it('refresh: concurrent use of one token yields exactly one new pair', async () => {
    const mail = email('conc');
    await register('Conc', mail);
    const pair = await login(mail);
    const results = await Promise.all(Array.from({ length: 8 }, () => post('/v1/auth/refresh', { refreshToken: pair.refreshToken })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 401)).toHaveLength(7);
  });

  it('refresh: unknown, empty or malformed tokens are 401/422, never 500', async () => {
    expectStatus(await post('/v1/auth/refresh', { refreshToken: 'A'.repeat(43) }), 401);
    expectStatus(await post('/v1/auth/refresh', { refreshToken: "' or 1=1 --" }), 401);
    expectStatus(await post('/v1/auth/refresh', { refreshToken: '' }), 422);
    expectStatus(await post('/v1/auth/refresh', {}), 422);
    expectStatus(await post('/v1/auth/refresh', { refreshToken: 42 }), 422);
    expectStatus(await post('/v1/auth/refresh', { refreshToken: viewer.accessToken }), 401);
  });

  it('refresh tokens are opaque, stored only as a hash, and live 30 days', async () => {
    const mail = email('store');
    const pair = await register('Store', mail);
    const hash = createHash('sha256').update(pair.refreshToken).digest('hex');
    const rows = await db<{ dump: string }>(
      `select (select string_agg(row_to_json(t)::text, '') from refresh_tokens t) ||
              (select string_agg(row_to_json(s)::text, '') from sessions s) ||
              (select string_agg(row_to_json(a)::text, '') from audit_events a) as dump`,
    );
    expect(rows[0]!.dump).not.toContain(pair.refreshToken);
    expect(rows[0]!.dump).not.toContain(pair.accessToken);
    const stored = await db<{ hex: string; days: number }>(
      `select encode(t.token_hash, 'hex') as hex, extract(epoch from s.expires_at - s.created_at) / 86400 as days
       from refresh_tokens t join sessions s on s.id = t.session_id join users u on u.id = s.user_id where u.email = $1`,
      [mail],
    );
    expect(stored.map((r) => r.hex)).toContain(hash);
    expect(Math.round(Number(stored[0]!.days))).toBe(30);
    expect(pair.refreshToken.split('.')).toHaveLength(1); // not a JWT
  });

  it('logout → 204, idempotent; the refresh token stops working', async () => {
    const mail = email('out');
    await register('Out', mail);
    const pair = await login(mail);
    expectStatus(await post('/v1/auth/logout', { refreshToken: pair.refreshToken }), 204);
    expectStatus(await post('/v1/auth/logout', { refreshToken: pair.refreshToken }), 204);
    expectStatus(await post('/v1/auth/logout', { refreshToken: 'never-issued-token-never-issued-token-00000' }), 204);
    expectStatus(await post('/v1/auth/refresh', { refreshToken: pair.refreshToken }), 401);
    expectStatus(await post('/v1/auth/logout', {}), 422);
    const res = await post('/v1/auth/logout', { refreshToken: pair.refreshToken });
    expect(res.text).toBe('');
  });

  it('logout-all (auth) → 204: every refresh token of the caller is revoked', async () => {
    const mail = email('all');
    const a = await register('All', mail);
    const b = await login(mail);
    const c = await login(mail);
    const someoneElse = await login(analystEmail);
    expectStatus(await post('/v1/auth/logout-all'), 401);
    expectStatus(await post('/v1/auth/logout-all', undefined, b.accessToken), 204);
    for (const p of [a, b, c]) expectStatus(await post('/v1/auth/refresh', { refreshToken: p.refreshToken }), 401);
    expectStatus(await post('/v1/auth/refresh', { refreshToken: someoneElse.refreshToken }), 200);
    // The access tokens of those sessions stop working at once (v2 §8).
    for (const p of [a, b, c]) expectStatus(await get('/v1/me/sessions', p.accessToken), 401);
  });
});
