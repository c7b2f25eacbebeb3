import { exportJWK, importJWK, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, createUser, signIn, type Harness } from './harness';

let h: Harness;
let user: { id: number; email: string; password: string };
let session: string;
let privateJwk: JWK & { kid: string };
let secondJwk: JWK & { kid: string };

beforeAll(async () => {
  h = await createHarness();
  user = await createUser(h, { roles: ['viewer'] });
  const pair = await signIn(h, user);
  session = JSON.parse(atob(pair.accessToken.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))).sid;
  privateJwk = JSON.parse(h.env.JWT_PRIVATE_KEY!);
  secondJwk = JSON.parse(h.env.TEST_SECOND_KEY);
});
afterAll(() => h.drop());

const b64url = (s: string) => btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const publicOf = ({ d: _d, ...pub }: JWK) => pub;

async function sign(
  jwk: JWK & { kid: string },
  claims: Record<string, unknown> = {},
  opts: { iss?: string; aud?: string; sub?: string; exp?: number | string; iat?: number; kid?: string; header?: Record<string, unknown> } = {},
) {
  const key = await importJWK(jwk, 'EdDSA');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ roles: ['viewer'], sid: session, ...claims })
    .setProtectedHeader({ alg: 'EdDSA', kid: opts.kid ?? jwk.kid, ...opts.header })
    .setIssuer(opts.iss ?? h.env.JWT_ISSUER ?? 'dashboard-analytics-api')
    .setAudience(opts.aud ?? h.env.JWT_AUDIENCE ?? 'dashboard-analytics')
    .setSubject(opts.sub ?? String(user.id))
    .setIssuedAt(opts.iat ?? now)
    .setExpirationTime(opts.exp ?? now + 600)
    .setJti(crypto.randomUUID())
    .sign(key);
}

const me = (headers: Record<string, string>, harness = h) => harness.call('GET', '/v1/me', { headers });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function expect401(res: { status: number; headers: Headers; body: any; statements: number }) {
  expect(res.status).toBe(401);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  expect(res.body.status).toBe(401);
  // Rejected before any database work.
  expect(res.statements).toBe(0);
}

describe('a valid token', () => {
  it('is accepted, carrying the contract claims', async () => {
    const token = await sign(privateJwk);
    const res = await me(bearer(token));
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(user.id);
    const pair = await signIn(h, user);
    const [header, payload] = pair.accessToken.split('.').slice(0, 2).map((p) => JSON.parse(atob(p.replace(/-/g, '+').replace(/_/g, '/'))));
    expect(header).toMatchObject({ alg: 'EdDSA', kid: privateJwk.kid });
    expect(payload).toMatchObject({ iss: h.env.JWT_ISSUER, aud: h.env.JWT_AUDIENCE, sub: String(user.id), roles: ['viewer'], sid: expect.any(String), jti: expect.any(String) });
    expect(payload.exp - payload.iat).toBe(900);
  });

  it('is accepted within 30 s of clock skew', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await me(bearer(await sign(privateJwk, {}, { exp: now - 20, iat: now - 900 })))).status).toBe(200);
  });

  it('scheme is case-insensitive', async () => {
    expect((await me({ authorization: `bearer ${await sign(privateJwk)}` })).status).toBe(200);
  });
});

describe('attacks on GET /v1/me all get 401', () => {
  const cases: [string, () => Promise<Record<string, string>>][] = [
    ['no header', async () => ({})],
    ['empty header', async () => ({ authorization: '' })],
    ['empty bearer', async () => ({ authorization: 'Bearer ' })],
    ['wrong scheme', async () => ({ authorization: `Basic ${btoa('a:b')}` })],
    ['token without scheme', async () => ({ authorization: await sign(privateJwk) })],
    ['token in a cookie only', async () => ({ cookie: `token=${await sign(privateJwk)}` })],
    [
      'alg none',
      async () => {
        const header = b64url(JSON.stringify({ alg: 'none', typ: 'JWT', kid: privateJwk.kid }));
        const now = Math.floor(Date.now() / 1000);
        const payload = b64url(JSON.stringify({ sub: String(user.id), roles: ['admin'], sid: session, iss: h.env.JWT_ISSUER, aud: h.env.JWT_AUDIENCE, iat: now, exp: now + 600, jti: 'x' }));
        return bearer(`${header}.${payload}.`);
      },
    ],
    [
      'HS256 signed with the public key',
      async () => {
        const secret = new TextEncoder().encode(JSON.stringify(publicOf(privateJwk)));
        const now = Math.floor(Date.now() / 1000);
        const token = await new SignJWT({ roles: ['admin'], sid: session })
          .setProtectedHeader({ alg: 'HS256', kid: privateJwk.kid })
          .setIssuer(h.env.JWT_ISSUER!).setAudience(h.env.JWT_AUDIENCE!).setSubject(String(user.id))
          .setIssuedAt(now).setExpirationTime(now + 600).setJti('x')
          .sign(secret);
        return bearer(token);
      },
    ],
    [
      'tampered payload (roles raised to admin)',
      async () => {
        const [head, , sig] = (await sign(privateJwk)).split('.');
        const now = Math.floor(Date.now() / 1000);
        const forged = b64url(JSON.stringify({ roles: ['admin'], sid: session, iss: h.env.JWT_ISSUER, aud: h.env.JWT_AUDIENCE, sub: String(user.id), iat: now, exp: now + 600, jti: 'x' }));
        return bearer(`${head}.${forged}.${sig}`);
      },
    ],
    ['unknown kid, signed by an unpublished key', async () => bearer(await sign(secondJwk))],
    ['published kid, signed by another key', async () => bearer(await sign(secondJwk, {}, { kid: privateJwk.kid }))],
    [
      'key material embedded in the header (jwk)',
      async () => bearer(await sign(secondJwk, {}, { kid: 'attacker', header: { jwk: publicOf(secondJwk) } })),
    ],
    ['expired beyond the skew', async () => bearer(await sign(privateJwk, {}, { exp: Math.floor(Date.now() / 1000) - 60, iat: Math.floor(Date.now() / 1000) - 1000 }))],
    ['wrong issuer', async () => bearer(await sign(privateJwk, {}, { iss: 'someone-else' }))],
    ['wrong audience', async () => bearer(await sign(privateJwk, {}, { aud: 'other-api' }))],
    ['sub not a user id', async () => bearer(await sign(privateJwk, {}, { sub: 'admin' }))],
    ['sub with a leading zero', async () => bearer(await sign(privateJwk, {}, { sub: `0${user.id}` }))],
    ['roles not a list', async () => bearer(await sign(privateJwk, { roles: 'admin' }))],
    ['no session id', async () => bearer(await sign(privateJwk, { sid: undefined }))],
    ['oversized', async () => bearer(await sign(privateJwk, { pad: 'x'.repeat(10_000) }))],
    ['garbage', async () => bearer('abc.def.ghi')],
    ['not even three parts', async () => bearer('garbage')],
    ['binary junk', async () => ({ authorization: 'Bearer \u0001\u0002\u0003' })],
  ];

  it.each(cases)('%s', async (_, headers) => {
    expect401(await me(await headers()));
  });
});

describe('key rotation', () => {
  it('accepts tokens of a key published in JWT_PUBLIC_KEYS, and signs with the new key after rotation', async () => {
    // Step 1: publish the next key alongside the current one.
    const publishing = h.with({ JWT_PUBLIC_KEYS: JSON.stringify([publicOf(secondJwk)]) });
    const jwks = await publishing.call('GET', '/.well-known/jwks.json');
    expect(jwks.status).toBe(200);
    expect(jwks.body.keys.map((k: JWK) => k.kid).sort()).toEqual([privateJwk.kid, secondJwk.kid].sort());
    for (const key of jwks.body.keys) {
      expect(key).toMatchObject({ use: 'sig', alg: 'EdDSA' });
      expect(key.d).toBeUndefined();
    }
    expect(jwks.headers.get('cache-control')).toMatch(/max-age=\d+/);

    const oldToken = await sign(privateJwk);
    // Step 2: sign with the new key; keep the old public key published until its tokens have expired.
    const rotated = h.with({ JWT_PRIVATE_KEY: JSON.stringify(secondJwk), JWT_PUBLIC_KEYS: JSON.stringify([publicOf(privateJwk)]) });
    expect((await me(bearer(oldToken), rotated)).status).toBe(200);
    const fresh = await signIn(rotated, user);
    expect(JSON.parse(atob(fresh.accessToken.split('.')[0]!)).kid).toBe(secondJwk.kid);
    expect((await me(bearer(fresh.accessToken), rotated)).status).toBe(200);

    // Step 3: drop the old key; its tokens stop verifying.
    const retired = h.with({ JWT_PRIVATE_KEY: JSON.stringify(secondJwk), JWT_PUBLIC_KEYS: '[]' });
    expect401(await me(bearer(oldToken), retired));
  });

  it('serves a JWKS with only public parts by default', async () => {
    const res = await h.call('GET', '/.well-known/jwks.json');
    expect(res.statements).toBe(0);
    expect(res.body.keys).toEqual([{ ...publicOf(privateJwk), alg: 'EdDSA', use: 'sig', kid: privateJwk.kid }].map(({ kty, crv, x, kid, alg, use }) => ({ kty, crv, x, kid, alg, use })));
  });
});

it('an ES256 (P-256) signing key works too', async () => {
  const { generateKeyPair } = await import('jose');
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'p256-test' };
  const es = h.with({ JWT_PRIVATE_KEY: JSON.stringify(jwk) });
  const pair = await signIn(es, user);
  expect(JSON.parse(atob(pair.accessToken.split('.')[0]!)).alg).toBe('ES256');
  expect((await es.call('GET', '/v1/me', { token: pair.accessToken })).status).toBe(200);
});
