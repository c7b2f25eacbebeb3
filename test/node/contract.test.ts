/**
 * The HTTP contract (../shared/api-contract.md §0-§7), line by line, as a client sees it: real HTTP with fetch against
 * `wrangler dev` (workerd) in front of a throw-away PostgreSQL. Every response is checked for the §0 conventions
 * (X-Request-Id, problem+json shape, camelCase, no internals) by `call` itself; the tests check the rest.
 *
 * One live stack for the file. The signing key is ours, so tokens can be forged (expired, wrong audience, alg none…);
 * a second Worker with ALLOW_SIGNUP=false shares the database for the "sign-up closed" line.
 */
import { createHash } from 'node:crypto';
import { createLocalJWKSet, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdmin } from '../../scripts/lib/admin';
import { generateSigningKey } from '../../scripts/lib/keys';
import { query, startLiveStack, startWorker, type LiveStack } from './live';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const CAMEL = /^[a-z][a-zA-Z0-9]*$/;
const USER_KEYS = ['createdAt', 'disabled', 'email', 'emailVerified', 'id', 'invited', 'lastLoginAt', 'mfaEnabled', 'name', 'roles'];
const ROLE_KEYS = ['createdAt', 'description', 'id', 'name', 'permissions', 'userCount'];
// What must never reach a client: hashes, SQL, driver messages, stack frames.
const LEAK = /\$scrypt\$|hashed_password|token_hash|\bselect\b[^"]*\bfrom\b|insert into|duplicate key|violates|ECONNREFUSED|node_modules|\.ts:\d+|\bat \S+ \(/i;
const HASH_PARAMS = 'N=1024,r=8,p=1';
const tag = `c${Date.now().toString(36)}`;
let seq = 0;
const email = (p: string) => `${p}-${++seq}-${tag}@contract.test`;
const PW = 'correct horse battery';

let stack: LiveStack;
let base: string;
let signingJwk: JWK & { kid: string };
let secondJwk: JWK & { kid: string };
let closedWorker: Promise<{ url: string; close(): Promise<void> }>;

interface Res {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

interface CallOptions {
  json?: unknown;
  raw?: BodyInit;
  token?: string;
  headers?: Record<string, string>;
  base?: string;
}

function checkCamel(value: unknown, where: string) {
  if (Array.isArray(value)) value.forEach((v) => checkCamel(v, where));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      expect(k, `${where}: field name ${k} is camelCase`).toMatch(CAMEL);
      checkCamel(v, where);
    }
  }
}

/** One request, with every §0 convention checked on the answer. */
async function call(method: string, path: string, o: CallOptions = {}): Promise<Res> {
  const headers: Record<string, string> = { ...o.headers };
  let body = o.raw;
  if (o.json !== undefined) {
    body = JSON.stringify(o.json);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  const res = await fetch(`${o.base ?? base}${path}`, { method, headers, body, redirect: 'manual' });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  const where = `${method} ${path} → ${res.status}`;
  const parsed = text && /json/.test(type) ? JSON.parse(text) : text ? text : null;

  expect(res.headers.get('x-request-id') ?? '', `${where}: X-Request-Id (${text.slice(0, 120)})`).toMatch(/^[A-Za-z0-9_=-]{1,200}$/);
  const docs = path.startsWith('/openapi.json') || path.startsWith('/docs');
  if (!docs) expect(text, `${where}: leaks internals`).not.toMatch(LEAK);
  if (/json/.test(type) && !docs) checkCamel(parsed, where);
  const healthDegraded = path.startsWith('/health') && res.status === 503 && method === 'GET';
  if (res.status >= 400 && method !== 'HEAD' && !healthDegraded) {
    expect(type, `${where}: problem+json`).toMatch(/^application\/problem\+json/);
    expect(parsed, where).toMatchObject({ type: expect.any(String), title: expect.any(String), status: res.status, detail: expect.any(String) });
    const allowed = res.status === 422 ? ['detail', 'errors', 'status', 'title', 'type'] : ['detail', 'status', 'title', 'type'];
    expect(Object.keys(parsed).every((k) => allowed.includes(k)), `${where}: fields ${Object.keys(parsed)}`).toBe(true);
    if (res.status === 422) {
      expect(Array.isArray(parsed.errors) && parsed.errors.length > 0, `${where}: errors[]`).toBe(true);
      for (const e of parsed.errors) expect(Object.keys(e).sort()).toEqual(['message', 'path']);
      for (const e of parsed.errors) expect(e).toEqual({ path: expect.any(String), message: expect.any(String) });
    }
  }
  return { status: res.status, headers: res.headers, text, body: parsed };
}

const get = (path: string, token?: string, headers?: Record<string, string>) => call('GET', path, { token, headers });
const post = (path: string, json?: unknown, token?: string) => call('POST', path, { json, token });
const patch = (path: string, json?: unknown, token?: string) => call('PATCH', path, { json, token });
const put = (path: string, json?: unknown, token?: string) => call('PUT', path, { json, token });
const del = (path: string, token?: string) => call('DELETE', path, { token });

function expectStatus(res: Res, status: number, slug?: string) {
  expect(res.status, `${res.text.slice(0, 300)}`).toBe(status);
  if (slug) expect(res.body.type).toMatch(new RegExp(`/${slug}$`));
}

function expectUser(u: any) {
  expect(Object.keys(u).sort()).toEqual(USER_KEYS);
  expect(u).toEqual({
    id: expect.any(Number),
    name: expect.any(String),
    email: expect.any(String),
    roles: expect.any(Array),
    disabled: expect.any(Boolean),
    createdAt: expect.stringMatching(ISO),
    lastLoginAt: u.lastLoginAt === null ? null : expect.stringMatching(ISO),
    emailVerified: expect.any(Boolean),
    invited: expect.any(Boolean),
    mfaEnabled: expect.any(Boolean),
  });
  expect(Number.isInteger(u.id) && u.id > 0).toBe(true);
  for (const r of u.roles) expect(typeof r).toBe('string');
  expect(u.email).toBe(u.email.trim().toLowerCase());
}

/** GET /v1/me: a User plus the caller's effective permissions, sorted (v2, §4). */
function expectMe(u: any) {
  const { permissions, ...user } = u;
  expect(Array.isArray(permissions)).toBe(true);
  expect(permissions).toEqual([...permissions].sort());
  expectUser(user);
}

function expectRole(r: any) {
  expect(Object.keys(r).sort()).toEqual(ROLE_KEYS);
  expect(r).toEqual({
    id: expect.any(Number),
    name: expect.any(String),
    description: r.description === null ? null : expect.any(String),
    permissions: expect.any(Array),
    createdAt: expect.stringMatching(ISO),
    userCount: expect.any(Number),
  });
  expect(r.permissions).toEqual([...r.permissions].sort());
}

interface Pair {
  tokenType: 'Bearer';
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  user: any;
}

function expectPair(p: any): Pair {
  expect(Object.keys(p).sort()).toEqual(['accessToken', 'expiresIn', 'refreshToken', 'tokenType', 'user']);
  expect(p.tokenType).toBe('Bearer');
  expect(p.expiresIn).toBe(900);
  expect(p.accessToken).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  // At least 256 random bits: 43 base64url characters or more.
  expect(p.refreshToken).toMatch(/^[A-Za-z0-9_-]{43,}$/);
  expectUser(p.user);
  return p as Pair;
}

async function register(name = 'Reg User', mail = email('reg'), password = PW): Promise<Pair> {
  const res = await post('/v1/auth/register', { name, email: mail, password });
  expectStatus(res, 201);
  return expectPair(res.body);
}

async function login(mail: string, password = PW, headers?: Record<string, string>): Promise<Pair> {
  const res = await call('POST', '/v1/auth/login', { json: { email: mail, password }, headers });
  expectStatus(res, 200);
  return expectPair(res.body);
}

const db = <T extends pg.QueryResultRow = any>(text: string, params: unknown[] = []) => query<T>(stack.databaseUrl, text, params);

/** A token signed with a key the API trusts (or not), with any claims: for expiry, issuer, audience, key checks. */
async function mint(
  claims: Record<string, unknown>,
  o: { key?: JWK & { kid: string }; kid?: string; exp?: number; iat?: number; iss?: string; aud?: string } = {},
) {
  const key = o.key ?? signingJwk;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ roles: ['admin'], sid: '00000000-0000-4000-8000-000000000000', ...claims })
    .setProtectedHeader({ alg: 'EdDSA', kid: o.kid ?? key.kid, typ: 'JWT' })
    .setIssuer(o.iss ?? 'dashboard-analytics-api')
    .setAudience(o.aud ?? 'dashboard-analytics')
    .setIssuedAt(o.iat ?? now)
    .setExpirationTime(o.exp ?? now + 600)
    .setJti(crypto.randomUUID())
    .sign(await importJWK(key, 'EdDSA'));
}

const b64url = (s: string) => Buffer.from(s).toString('base64url');

/** Another `wrangler dev` on the same database with other settings (here ALLOW_SIGNUP=false). */
const startOtherWorker = (databaseUrl: string, vars: Record<string, string>) =>
  startWorker(databaseUrl, { JWT_PRIVATE_KEY: JSON.stringify(signingJwk), PASSWORD_HASH_PARAMS: HASH_PARAMS, SERVER_TIMING: 'false', ...vars });

// The cast of the whole file: one admin bootstrapped in the database, an analyst and a viewer made through the API.
const ROOT = { email: `root-${tag}@contract.test`, name: 'Root Admin', password: 'root password for the contract' };
let root: Pair;
let analyst: Pair;
let viewer: Pair;
const analystEmail = email('analyst');

beforeAll(async () => {
  signingJwk = JSON.parse(await generateSigningKey());
  const second = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  secondJwk = { ...(await exportJWK(second.privateKey)), kid: `second-${tag}` } as JWK & { kid: string };
  const { d: _d, ...secondPublic } = secondJwk;
  stack = await startLiveStack({
    JWT_PRIVATE_KEY: JSON.stringify(signingJwk),
    JWT_PUBLIC_KEYS: JSON.stringify([secondPublic]),
  });
  base = stack.url;
  // Sign-up closed, and short lifetimes and lockout window, to see the configurable settings take effect.
  closedWorker = startOtherWorker(stack.databaseUrl, { ALLOW_SIGNUP: 'false', ACCESS_TOKEN_TTL: '60', REFRESH_TOKEN_TTL: '3', LOGIN_WINDOW_SECONDS: '3' });
  closedWorker.catch(() => {});
  await ensureAdmin(stack.databaseUrl, ROOT, HASH_PARAMS);
  root = await login(ROOT.email, ROOT.password);
  const made = await post('/v1/users', { name: 'Ann Analyst', email: analystEmail, password: PW, roles: ['analyst'] }, root.accessToken);
  expectStatus(made, 201);
  analyst = await login(analystEmail);
  viewer = await register('Vic Viewer');
}, 180_000);

afterAll(async () => {
  await (await closedWorker.catch(() => undefined))?.close();
  await stack?.close();
}, 60_000);

// ---------------------------------------------------------------------------------------------------------------
describe('§0 conventions', () => {
  it('timestamps are ISO 8601 UTC with milliseconds; field names camelCase (checked on every answer)', async () => {
    const me = await get('/v1/me', root.accessToken);
    expectStatus(me, 200);
    expectMe(me.body);
    expect(me.body.createdAt).toMatch(ISO);
    expect(me.body.lastLoginAt).toMatch(ISO);
    expect(me.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('X-Request-Id is echoed when sane and generated otherwise, on successes and errors alike', async () => {
    const sane = 'trace-Abc_123=';
    for (const [method, path, token] of [
      ['GET', '/health', undefined],
      ['GET', '/v1/me', root.accessToken],
      ['GET', '/v1/me', undefined], // 401
      ['GET', '/v1/users', viewer.accessToken], // 403
      ['GET', '/v1/nowhere', undefined], // 404
      ['DELETE', '/health', undefined], // 405
    ] as const) {
      const echoed = await call(method, path, { token, headers: { 'X-Request-Id': sane } });
      expect(echoed.headers.get('x-request-id'), `${method} ${path}`).toBe(sane);
      const fresh = await call(method, path, { token });
      expect(fresh.headers.get('x-request-id'), `${method} ${path}`).toMatch(/^[A-Za-z0-9_=-]{8,}$/);
    }
    const a = await get('/health');
    const b = await get('/health');
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
    const max = 'a'.repeat(200);
    expect((await get('/health', undefined, { 'X-Request-Id': max })).headers.get('x-request-id')).toBe(max);
    for (const insane of ['has spaces', '<script>', 'a'.repeat(201), 'semi;colon', '"quoted"', 'a/b', "it's"]) {
      const res = await call('GET', '/health', { headers: { 'X-Request-Id': insane } });
      expect(res.headers.get('x-request-id'), insane).not.toBe(insane);
    }
    // On the error answers the middleware chain raises early, too.
    const bad = await call('POST', '/v1/auth/login', { raw: '{', headers: { 'content-type': 'application/json', 'X-Request-Id': sane } });
    expectStatus(bad, 400);
    expect(bad.headers.get('x-request-id')).toBe(sane);
    const query = await call('GET', '/v1/users?q=%E0%A4%A', { token: root.accessToken, headers: { 'X-Request-Id': sane } });
    expectStatus(query, 400);
    expect(query.headers.get('x-request-id')).toBe(sane);
    // Early refusals look like every other answer (no-store, nosniff).
    for (const early of [query, bad]) {
      expect(early.headers.get('cache-control')).toBe('no-store');
      expect(early.headers.get('x-content-type-options')).toBe('nosniff');
    }
    // Preflight and HEAD answers carry it too.
    const preflight = await fetch(`${base}/v1/users`, { method: 'OPTIONS', headers: { Origin: 'https://elsewhere.example', 'Access-Control-Request-Method': 'GET' } });
    expect(preflight.headers.get('x-request-id')).toBeTruthy();
    const head = await fetch(`${base}/health`, { method: 'HEAD', headers: { 'X-Request-Id': sane } });
    expect(head.headers.get('x-request-id')).toBe(sane);
  });

  it('400 for malformed JSON, in every flavour', async () => {
    for (const raw of ['{', '{"email":', "{'a':1}", '{"a":1,}', 'nope', '\u0000']) {
      const res = await call('POST', '/v1/auth/login', { raw, headers: { 'content-type': 'application/json' } });
      expectStatus(res, 400, 'malformed-json');
    }
    const empty = await call('POST', '/v1/auth/login', { raw: '', headers: { 'content-type': 'application/json' } });
    expectStatus(empty, 400);
    const authed = await call('PATCH', '/v1/me', { raw: '{"name":', token: viewer.accessToken, headers: { 'content-type': 'application/json' } });
    expectStatus(authed, 400, 'malformed-json');
  });

  it('400 for a query string that is not decodable', async () => {
    for (const q of ['q=%E0%A4%A', 'q=%', 'q=%zz', 'limit=%FF']) {
      expectStatus(await get(`/v1/users?${q}`, root.accessToken), 400);
    }
  });

  it('401 for a missing, malformed, invalid or expired token — and nothing but the Authorization header authenticates', async () => {
    expectStatus(await get('/v1/me'), 401, 'unauthorized');
    expectStatus(await get('/v1/me', undefined, { authorization: 'Bearer' }), 401);
    expectStatus(await get('/v1/me', undefined, { authorization: 'Basic cm9vdDpyb290' }), 401);
    expectStatus(await get('/v1/me', undefined, { authorization: `Token ${root.accessToken}` }), 401);
    expectStatus(await get('/v1/me', 'not.a.jwt'), 401);
    expectStatus(await get('/v1/me', root.refreshToken), 401);
    expectStatus(await get(`/v1/me?access_token=${root.accessToken}`), 401);
    expectStatus(await get(`/v1/me?token=${root.accessToken}`), 401);
    expectStatus(await get('/v1/me', undefined, { cookie: `token=${root.accessToken}; access_token=${root.accessToken}` }), 401);
    expectStatus(await get('/v1/me', undefined, { 'x-access-token': root.accessToken }), 401);
    const expired = await mint({ sub: String(root.user.id) }, { iat: Math.floor(Date.now() / 1000) - 1000, exp: Math.floor(Date.now() / 1000) - 120 });
    expectStatus(await get('/v1/me', expired), 401);
  });

  it('403 when authenticated but lacking the role', async () => {
    expectStatus(await get('/v1/users', viewer.accessToken), 403, 'forbidden');
    expectStatus(await get('/v1/audit', analyst.accessToken), 403);
  });

  it('404 for an unknown resource and for a route that does not exist', async () => {
    for (const path of ['/nope', '/v1', '/v1/', '/v1/nope', '/v2/users', '/v1/auth', '/v1/auth/nope', '/.well-known/nope', '/favicon.ico']) {
      expectStatus(await get(path), 404, 'not-found');
    }
    expectStatus(await get('/v1/users/999999', root.accessToken), 404);
    expectStatus(await get('/v1/roles/no-such-role', root.accessToken), 404);
    for (const path of ['/v1/users/1/nope', '/v1/me/nope', '/v1/roles/admin/users/1', '/v1/stats', '/v1/stats/nope', '/v1/audit/1']) {
      expectStatus(await get(path, root.accessToken), 404);
      expectStatus(await get(path), 404);
    }
  });

  it('a trailing slash is not another route: never a 405 that names the method used', async () => {
    for (const path of ['/health/', '/docs/', '/v1/me/', '/v1/users/', `/v1/users/${root.user.id}/`, '/v1/roles/']) {
      const res = await get(path, root.accessToken);
      if (res.status === 405) expect(res.headers.get('allow'), `GET ${path}`).not.toMatch(/\bGET\b/);
      expect([200, 404], `GET ${path}`).toContain(res.status);
    }
  });

  it('405 with Allow for a known path under another method', async () => {
    const cases: [string, string, string[], string?][] = [
      ['POST', '/health', ['GET']],
      ['DELETE', '/.well-known/jwks.json', ['GET']],
      ['PUT', '/openapi.json', ['GET']],
      ['POST', '/docs', ['GET']],
      ['GET', '/v1/auth/login', ['POST']],
      ['GET', '/v1/auth/register', ['POST']],
      ['DELETE', '/v1/auth/refresh', ['POST']],
      ['GET', '/v1/auth/logout', ['POST']],
      ['GET', '/v1/auth/logout-all', ['POST']],
      ['DELETE', '/v1/me', ['GET', 'PATCH'], root.accessToken],
      ['GET', '/v1/me/password', ['POST'], root.accessToken],
      ['POST', '/v1/me/sessions', ['GET'], root.accessToken],
      ['GET', '/v1/me/sessions/00000000-0000-4000-8000-000000000000', ['DELETE'], root.accessToken],
      ['PUT', '/v1/users', ['GET', 'POST'], root.accessToken],
      ['POST', `/v1/users/${root.user.id}`, ['GET', 'PATCH', 'DELETE'], root.accessToken],
      ['GET', `/v1/users/${root.user.id}/roles`, ['PUT'], root.accessToken],
      ['GET', `/v1/users/${root.user.id}/roles/admin`, ['PUT', 'DELETE'], root.accessToken],
      ['GET', `/v1/users/${root.user.id}/sessions`, ['DELETE'], root.accessToken],
      ['DELETE', '/v1/roles', ['GET', 'POST'], root.accessToken],
      ['POST', '/v1/roles/admin', ['GET', 'PATCH', 'DELETE'], root.accessToken],
      ['POST', '/v1/roles/admin/users', ['GET'], root.accessToken],
      ['POST', '/v1/stats/overview', ['GET'], root.accessToken],
      ['DELETE', '/v1/audit', ['GET'], root.accessToken],
    ];
    for (const [method, path, methods, token] of cases) {
      // Routing comes first: the same answer with or without a token.
      for (const t of new Set([token, undefined])) {
        const res = await call(method, path, { token: t });
        expectStatus(res, 405, 'method-not-allowed');
        const allow = (res.headers.get('allow') ?? '').split(',').map((m) => m.trim());
        for (const m of methods) expect(allow, `${method} ${path}: Allow`).toContain(m);
        expect(allow, `${method} ${path}: Allow`).not.toContain(method);
      }
    }
  });

  it('409 on conflicts (duplicate email, duplicate role name, last admin) — covered in §3, §5, §6', async () => {
    const res = await post('/v1/auth/register', { name: 'Dup', email: ROOT.email.toUpperCase(), password: PW });
    expectStatus(res, 409);
  });

  it('413 for a body over 64 KiB, with or without Content-Length', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(64 * 1024), email: email('big'), password: PW });
    expectStatus(await call('POST', '/v1/auth/register', { raw: big, headers: { 'content-type': 'application/json' } }), 413, 'body-too-large');
    expectStatus(await call('PATCH', '/v1/me', { raw: big, token: viewer.accessToken, headers: { 'content-type': 'application/json' } }), 413);
    // Streamed (chunked, no Content-Length): the answer must be the 413, not a reset connection, every time.
    for (const kib of [80, 300, 2048, 80, 300, 2048]) {
      const chunk = new TextEncoder().encode('x'.repeat(1024));
      let sent = 0;
      const stream = new ReadableStream({
        pull(controller) {
          if (sent++ < kib) controller.enqueue(chunk);
          else controller.close();
        },
      });
      const res = await fetch(`${base}/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: stream,
        duplex: 'half',
      } as RequestInit);
      expect(res.status, `${kib} KiB streamed`).toBe(413);
      expect(res.headers.get('content-type')).toMatch(/problem\+json/);
      expect(res.headers.get('x-request-id')).toBeTruthy();
      expect(((await res.json()) as { status: number }).status).toBe(413);
    }
    // A streamed body within the limit is read as usual.
    const small = new TextEncoder().encode(JSON.stringify({ email: ROOT.email, password: ROOT.password }));
    const streamed = await fetch(`${base}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({ start: (c) => (c.enqueue(small), c.close()) }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(200);
    await streamed.arrayBuffer();
    // Just under the limit is not refused for its size.
    const under = JSON.stringify({ email: 'x@example.com', password: 'p'.repeat(64 * 1024 - 60) });
    expect(under.length).toBeLessThanOrEqual(64 * 1024);
    expect((await call('POST', '/v1/auth/login', { raw: under, headers: { 'content-type': 'application/json' } })).status).not.toBe(413);
  });

  it('415 for a body that is not application/json', async () => {
    const body = JSON.stringify({ email: ROOT.email, password: ROOT.password });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'text/json']) {
      expectStatus(await call('POST', '/v1/auth/login', { raw: body, headers: { 'content-type': type } }), 415, 'unsupported-media-type');
    }
    // A body with no Content-Type at all (a Blob without a type sends none).
    expectStatus(await call('POST', '/v1/auth/login', { raw: new Blob([body]) }), 415);
    expectStatus(await call('PATCH', '/v1/me', { raw: '{"name":"x"}', token: viewer.accessToken, headers: { 'content-type': 'text/plain' } }), 415);
    expectStatus(await call('POST', '/v1/users', { raw: '{}', token: root.accessToken, headers: { 'content-type': 'text/plain' } }), 415);
    // Also on routes that read no body: a body that is not JSON is refused, not ignored. An empty one is no body.
    const mail = email('bodyless');
    const pair = await register('Bodyless', mail);
    for (const [method, path, type] of [
      ['POST', '/v1/auth/logout-all', 'text/plain'],
      ['DELETE', `/v1/users/${pair.user.id}/sessions`, 'application/x-www-form-urlencoded'],
      ['PUT', `/v1/users/${pair.user.id}/roles/analyst`, 'text/plain'],
      ['DELETE', `/v1/users/${pair.user.id}`, 'text/xml'],
    ] as const) {
      const token = path.startsWith('/v1/auth') ? pair.accessToken : root.accessToken;
      expectStatus(await call(method, path, { raw: 'x=1', token, headers: { 'content-type': type } }), 415);
    }
    expect((await get(`/v1/users/${pair.user.id}`, root.accessToken)).body.roles).toEqual(['viewer']);
    expectStatus(await post('/v1/auth/refresh', { refreshToken: pair.refreshToken }), 200);
    expectStatus(await call('POST', '/v1/auth/logout-all', { raw: '', token: pair.accessToken, headers: { 'content-type': 'text/plain' } }), 204);
    // With a charset, and in capitals, it is JSON.
    expectStatus(await call('POST', '/v1/auth/login', { raw: body, headers: { 'content-type': 'application/json; charset=utf-8' } }), 200);
    expectStatus(await call('POST', '/v1/auth/login', { raw: body, headers: { 'content-type': 'Application/JSON' } }), 200);
  });

  it('422 for well-formed input that fails validation, with errors[] naming the fields', async () => {
    const res = await post('/v1/auth/register', { name: '', email: 'not-an-email', password: 'short' });
    expectStatus(res, 422, 'validation-error');
    expect(res.body.errors.map((e: any) => e.path).sort()).toEqual(['email', 'name', 'password']);
    for (const body of [[], null, 'text', 42, true, { name: 1, email: 2, password: 3 }]) {
      expectStatus(await post('/v1/auth/register', body), 422);
    }
    // Unknown fields are refused, naming the field (README decision).
    const extra = await post('/v1/auth/register', { name: 'A', email: email('x'), password: PW, isAdmin: true });
    expectStatus(extra, 422);
    expect(extra.body.errors).toContainEqual({ path: 'isAdmin', message: expect.any(String) });
    const proto = await call('POST', '/v1/auth/register', { raw: `{"name":"A","email":"${email('p')}","password":"${PW}","__proto__":{"roles":["admin"]}}`, headers: { 'content-type': 'application/json' } });
    expect([201, 422]).toContain(proto.status);
    if (proto.status === 201) expect(proto.body.user.roles).toEqual(['viewer']);
  });

  /** Sends each case; answers the ones that got a 5xx. */
  async function serverErrors(cases: [string, string, unknown, string?][]) {
    const failures: string[] = [];
    for (const [method, path, json, token] of cases) {
      const res = await call(method, path, { json, token });
      if (res.status >= 500) failures.push(`${method} ${path} ${JSON.stringify(json) ?? ''} → ${res.status}`);
    }
    return failures;
  }
  const NUL = 'a\u0000b';

  it('hostile text (NUL, lone surrogates, SQL) is a 4xx, never a 500: auth, me, audit', async () => {
    expect(
      await serverErrors([
        ['POST', '/v1/auth/register', { name: NUL, email: email('nul'), password: PW }],
        ['POST', '/v1/auth/register', { name: 'N', email: `a\u0000${email('nul')}`, password: PW }],
        ['POST', '/v1/auth/register', { name: '\ud800', email: email('nul'), password: PW }],
        ['POST', '/v1/auth/login', { email: `${ROOT.email}\u0000`, password: PW }],
        ['POST', '/v1/auth/login', { email: "x'--@example.com", password: "' or '1'='1" }],
        ['POST', '/v1/auth/refresh', { refreshToken: NUL }],
        ['POST', '/v1/auth/logout', { refreshToken: NUL }],
        ['PATCH', '/v1/me', { name: NUL }, viewer.accessToken],
        ['POST', '/v1/me/password', { currentPassword: NUL, newPassword: PW }, viewer.accessToken],
        ['DELETE', '/v1/me/sessions/%00', undefined, viewer.accessToken],
        ['GET', '/v1/audit?action=%00', undefined, root.accessToken],
        ['GET', '/v1/audit?action=auth.login%00', undefined, root.accessToken],
        ['GET', '/v1/stats/overview?days=1%00', undefined, root.accessToken],
        ['GET', '/v1/users?q=%ED%A0%80', undefined, root.accessToken],
      ]),
    ).toEqual([]);
    // Where text is stored, a NUL is a 422 naming the field (PostgreSQL text cannot hold U+0000).
    for (const [method, path, json, token] of [
      ['POST', '/v1/auth/register', { name: NUL, email: email('nul'), password: PW }, undefined],
      ['PATCH', '/v1/me', { name: NUL }, viewer.accessToken],
    ] as const) {
      const res = await call(method, path, { json, token });
      expectStatus(res, 422);
      expect(res.body.errors.map((e: any) => e.path)).toEqual(['name']);
    }
  });

  it('hostile text (NUL, lone surrogates, SQL) is a 4xx, never a 500: users, roles', async () => {
    const target = (await post('/v1/users', { name: 'Target', email: email('target'), password: PW }, root.accessToken)).body.id;
    expect(
      await serverErrors([
        ['POST', '/v1/users', { name: NUL, email: email('nul'), password: PW }, root.accessToken],
        ['PATCH', `/v1/users/${target}`, { name: NUL }, root.accessToken],
        ['PUT', `/v1/users/${target}/roles`, { roles: [NUL] }, root.accessToken],
        ['POST', '/v1/roles', { name: `nul-${tag}`, description: NUL }, root.accessToken],
        ['PATCH', '/v1/roles/viewer', { description: NUL }, root.accessToken],
        ['GET', '/v1/users?q=%00', undefined, root.accessToken],
        ['GET', '/v1/users?q=a%00b&sort=name', undefined, root.accessToken],
        ['GET', '/v1/users?role=%00', undefined, root.accessToken],
        ['GET', '/v1/users/%00', undefined, root.accessToken],
        ['GET', '/v1/roles/%00', undefined, root.accessToken],
        ['GET', `/v1/users?q=${encodeURIComponent("'; drop table users; --")}`, undefined, root.accessToken],
      ]),
    ).toEqual([]);
    expect(await db('select 1 from users where id = $1', [target])).toHaveLength(1);
  });

  it('429 with Retry-After when rate limited (the sign-in lockout, §3)', async () => {
    // Exercised in §3 below; here only the shape of the answer.
    const mail = email('lock0');
    for (let i = 0; i < 5; i++) expectStatus(await post('/v1/auth/login', { email: mail, password: `wrong password ${i}` }), 401);
    const res = await post('/v1/auth/login', { email: mail, password: 'whatever password' });
    expectStatus(res, 429, 'rate-limited');
    expect(res.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
  });

  it('lists use keyset pagination: {data, nextCursor}, limit 1..100 default 20, a bad cursor is a 400', async () => {
    // Enough users for more than one default page.
    await db(
      `insert into users (name, email, hashed_password) select 'Bulk ' || i, 'bulk-' || i || '-${tag}@contract.test', 'x' from generate_series(1, 25) i`,
    );
    const first = await get('/v1/users', root.accessToken);
    expectStatus(first, 200);
    expect(Object.keys(first.body).sort()).toEqual(['data', 'nextCursor']);
    expect(first.body.data).toHaveLength(20);
    expect(typeof first.body.nextCursor).toBe('string');
    first.body.data.forEach(expectUser);
    expect((await get('/v1/users?limit=1', root.accessToken)).body.data).toHaveLength(1);
    const all = await get('/v1/users?limit=100', root.accessToken);
    expectStatus(all, 200);
    expect(all.body.data.length).toBeGreaterThan(20);
    expect(all.body.data.length).toBeLessThanOrEqual(100);
    for (const limit of ['0', '101', '-1', '1.5', 'abc', '']) {
      expectStatus(await get(`/v1/users?limit=${encodeURIComponent(limit)}`, root.accessToken), 422);
    }
    // Walk the whole list with the cursor: every user once, then null.
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: Res = await get(`/v1/users?limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, root.accessToken);
      expectStatus(page, 200);
      seen.push(...page.body.data.map((u: any) => u.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(all.body.data.length);

    const next: string = first.body.nextCursor;
    const tampered = [
      'garbage',
      next.slice(0, -2) + (next.endsWith('AA') ? 'BB' : 'AA'),
      `${b64url(JSON.stringify({ kind: 'users', sort: '-createdAt', values: ['2000-01-01T00:00:00Z'], id: 1 }))}.${next.split('.')[1]}`,
      next + '.x',
      'a'.repeat(5000),
      '....',
      "' or 1=1 --",
    ];
    for (const bad of tampered) {
      expectStatus(await get(`/v1/users?cursor=${encodeURIComponent(bad)}`, root.accessToken), 400);
    }
    // Foreign: a cursor of another list, or of another sort order.
    const audit = await get('/v1/audit?limit=1', root.accessToken);
    expect(audit.body.nextCursor).toEqual(expect.any(String));
    expectStatus(await get(`/v1/users?cursor=${encodeURIComponent(audit.body.nextCursor)}`, root.accessToken), 400);
    expectStatus(await get(`/v1/audit?cursor=${encodeURIComponent(next)}`, root.accessToken), 400);
    expectStatus(await get(`/v1/users?sort=name&cursor=${encodeURIComponent(next)}`, root.accessToken), 400);
    expectStatus(await get(`/v1/roles/viewer/users?cursor=${encodeURIComponent(next)}`, root.accessToken), 400);
  });

  it('an empty cursor is refused as a client error, never a 500', async () => {
    const res = await get('/v1/users?cursor=', root.accessToken);
    expect([400, 422]).toContain(res.status);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('§1 resources', () => {
  it('User has exactly its fields, never a hash or token material', async () => {
    const res = await get(`/v1/users/${viewer.user.id}`, root.accessToken);
    expectStatus(res, 200);
    expectUser(res.body);
    expect(res.body).toMatchObject({ id: viewer.user.id, roles: ['viewer'], disabled: false });
    const stored = await db<{ hashed_password: string }>('select hashed_password from users where id = $1', [viewer.user.id]);
    for (const r of [res, await get('/v1/me', viewer.accessToken), await get('/v1/users?limit=100', root.accessToken)]) {
      expect(r.text).not.toContain(stored[0]!.hashed_password.split('$')[4]);
      expect(r.text).not.toMatch(/password|hash|refresh/i);
    }
  });

  it('Role has exactly its fields, userCount in lists and single reads', async () => {
    const list = await get('/v1/roles', root.accessToken);
    expectStatus(list, 200);
    list.body.data.forEach(expectRole);
    const one = await get('/v1/roles/viewer', root.accessToken);
    expectStatus(one, 200);
    expectRole(one.body);
    expect(one.body.userCount).toBe(list.body.data.find((r: any) => r.name === 'viewer').userCount);
  });

  it('emails are trimmed, compared case-insensitively, stored lower-case, unique', async () => {
    const local = `MiXeD.Case-${tag}`;
    const pair = await register('Mixed Case', `  ${local}@Example.COM  `);
    expect(pair.user.email).toBe(`${local.toLowerCase()}@example.com`);
    const rows = await db<{ email: string }>('select email from users where id = $1', [pair.user.id]);
    expect(rows[0]!.email).toBe(`${local.toLowerCase()}@example.com`);
    expectStatus(await post('/v1/auth/register', { name: 'Again', email: `${local.toUpperCase()}@EXAMPLE.com`, password: PW }), 409);
    expectStatus(await post('/v1/users', { name: 'Again', email: ` ${local}@example.com`, password: PW }, root.accessToken), 409);
    await login(`${local.toUpperCase()}@example.com `);
  });

  it('names: 1..100 characters after trimming (code points)', async () => {
    expect((await register(`  ${'n'.repeat(100)}  `)).user.name).toBe('n'.repeat(100));
    expect((await register('😀'.repeat(100))).user.name).toBe('😀'.repeat(100));
    expect((await register('  Trimmed  ')).user.name).toBe('Trimmed');
    for (const name of ['', '   ', 'n'.repeat(101), '😀'.repeat(101)]) {
      const res = await post('/v1/auth/register', { name, email: email('name'), password: PW });
      expectStatus(res, 422);
      expect(res.body.errors.map((e: any) => e.path)).toEqual(['name']);
    }
    expectStatus(await patch('/v1/me', { name: 'n'.repeat(101) }, viewer.accessToken), 422);
    expectStatus(await patch('/v1/me', { name: ' ' }, viewer.accessToken), 422);
  });

  it('passwords: 12..128 code points, never trimmed', async () => {
    await register('P12', email('pw'), 'p'.repeat(12));
    await register('P128', email('pw'), 'p'.repeat(128));
    const emoji = email('pw');
    await register('Emoji', emoji, '🔑'.repeat(12)); // 24 UTF-16 units, 12 code points
    await login(emoji, '🔑'.repeat(12));
    await register('Emoji128', email('pw'), '🔑'.repeat(128));
    for (const password of ['p'.repeat(11), 'p'.repeat(129), '🔑'.repeat(11), '🔑'.repeat(129), '']) {
      const res = await post('/v1/auth/register', { name: 'P', email: email('pw'), password });
      expectStatus(res, 422);
      expect(res.body.errors.map((e: any) => e.path)).toEqual(['password']);
    }
    const spaced = email('pw');
    await register('Spaces', spaced, '  spaced password  ');
    expectStatus(await post('/v1/auth/login', { email: spaced, password: 'spaced password' }), 401);
    await login(spaced, '  spaced password  ');
  });

  it('role names: ^[a-z][a-z0-9_-]{1,49}$, unique, immutable', async () => {
    for (const name of ['a', 'Ab', '1ab', '-ab', 'ab cd', 'ab.cd', 'é-role', `a${'b'.repeat(50)}`, '', 'ADMIN']) {
      const res = await post('/v1/roles', { name }, root.accessToken);
      expectStatus(res, 422);
      expect(res.body.errors.map((e: any) => e.path)).toContain('name');
    }
    for (const name of ['zz', 'a1', `a${'b'.repeat(49)}`, `x_${tag}`, `y-${tag}`]) {
      const res = await post('/v1/roles', { name }, root.accessToken);
      expectStatus(res, 201);
      expect(res.body.name).toBe(name);
    }
    expectStatus(await patch('/v1/roles/zz', { name: 'zy' }, root.accessToken), 422);
    expectStatus(await patch('/v1/roles/zz', { name: 'zz', description: 'd' }, root.accessToken), 422);
    expectStatus(await get('/v1/roles/zz', root.accessToken), 200);
    expectStatus(await del('/v1/roles/zz', root.accessToken), 204);
  });

  it('built-in roles admin, analyst, viewer are present after migration and cannot be deleted', async () => {
    const list = await get('/v1/roles', root.accessToken);
    const names = list.body.data.map((r: any) => r.name);
    for (const builtIn of ['admin', 'analyst', 'viewer']) {
      expect(names).toContain(builtIn);
      expectStatus(await del(`/v1/roles/${builtIn}`, root.accessToken), 409);
      expectStatus(await get(`/v1/roles/${builtIn}`, root.accessToken), 200);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('§2 health and discovery', () => {
  it('GET /health → 200 {status: ok, db: ok}', async () => {
    const res = await get('/health');
    expectStatus(res, 200);
    expect(res.body).toEqual({ status: 'ok', db: 'ok' });
  });

  it('GET /.well-known/jwks.json → the keys that verify access tokens, each with kid, alg, use: sig', async () => {
    const res = await get('/.well-known/jwks.json');
    expectStatus(res, 200);
    expect(Object.keys(res.body)).toEqual(['keys']);
    for (const k of res.body.keys) {
      expect(k).toMatchObject({ kid: expect.any(String), alg: expect.stringMatching(/^(ES256|EdDSA)$/), use: 'sig' });
      expect(k).not.toHaveProperty('d');
    }
    expect(res.body.keys.map((k: any) => k.kid).sort()).toEqual([signingJwk.kid, secondJwk.kid].sort());
    const verified = await jwtVerify(root.accessToken, createLocalJWKSet(res.body), {
      issuer: 'dashboard-analytics-api',
      audience: 'dashboard-analytics',
    });
    expect(verified.payload.sub).toBe(String(root.user.id));
  });

  it('GET /openapi.json → an OpenAPI 3.1 document of every route', async () => {
    const res = await get('/openapi.json');
    expectStatus(res, 200);
    expect(res.body.openapi).toMatch(/^3\.1\./);
    const routes = [
      'get /health', 'get /.well-known/jwks.json', 'get /openapi.json', 'get /docs',
      'post /v1/auth/register', 'post /v1/auth/login', 'post /v1/auth/refresh', 'post /v1/auth/logout', 'post /v1/auth/logout-all',
      'get /v1/me', 'patch /v1/me', 'post /v1/me/password', 'get /v1/me/sessions', 'delete /v1/me/sessions/{id}',
      'get /v1/users', 'post /v1/users', 'get /v1/users/{id}', 'patch /v1/users/{id}', 'delete /v1/users/{id}',
      'put /v1/users/{id}/roles', 'put /v1/users/{id}/roles/{role}', 'delete /v1/users/{id}/roles/{role}', 'delete /v1/users/{id}/sessions',
      'get /v1/roles', 'post /v1/roles', 'get /v1/roles/{role}', 'patch /v1/roles/{role}', 'delete /v1/roles/{role}', 'get /v1/roles/{role}/users',
      'get /v1/stats/overview', 'get /v1/audit',
    ];
    const documented = Object.entries(res.body.paths as Record<string, object>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    for (const r of routes) expect(documented).toContain(r);
  });

  it('GET /docs → an interactive reference page for that document', async () => {
    const res = await get('/docs');
    expectStatus(res, 200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.text).toContain('/openapi.json');
  });
});

// ---------------------------------------------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------------------------------------------
describe('§4 the caller', () => {
  it('GET /v1/me → 200 User', async () => {
    const res = await get('/v1/me', viewer.accessToken);
    expectStatus(res, 200);
    expectMe(res.body);
    expect(res.body).toMatchObject({ id: viewer.user.id, email: viewer.user.email, roles: ['viewer'], permissions: [] });
  });

  it('PATCH /v1/me {name} → 200 User; nothing else can change', async () => {
    const pair = await register('Before');
    const res = await patch('/v1/me', { name: '  After  ' }, pair.accessToken);
    expectStatus(res, 200);
    expectUser(res.body);
    expect(res.body).toEqual({ ...pair.user, name: 'After' });
    for (const body of [{ name: 'X', email: 'x@example.com' }, { name: 'X', roles: ['admin'] }, { roles: ['admin'] }, { disabled: true }, {}]) {
      expectStatus(await patch('/v1/me', body, pair.accessToken), 422);
    }
    expect((await get('/v1/me', pair.accessToken)).body).toEqual({ ...pair.user, name: 'After', permissions: [] });
    expectStatus(await patch('/v1/me', { name: 'Anon' }), 401);
  });

  it('POST /v1/me/password → 204; other refresh tokens revoked, this session stays; 401 on a wrong current password', async () => {
    const mail = email('pwd');
    await register('Pwd', mail);
    const current = await login(mail);
    const other = await login(mail);
    expectStatus(await post('/v1/me/password', { currentPassword: 'not my password', newPassword: 'a brand new password' }, current.accessToken), 401);
    expectStatus(await post('/v1/me/password', { currentPassword: PW, newPassword: 'short' }, current.accessToken), 422);
    expectStatus(await post('/v1/me/password', { currentPassword: PW }, current.accessToken), 422);
    expectStatus(await post('/v1/me/password', { currentPassword: PW, newPassword: 'a brand new password' }), 401);
    // Nothing changed so far.
    const rotated = await post('/v1/auth/refresh', { refreshToken: other.refreshToken });
    expectStatus(rotated, 200);
    other.refreshToken = rotated.body.refreshToken;
    const res = await post('/v1/me/password', { currentPassword: PW, newPassword: 'a brand new password' }, current.accessToken);
    expectStatus(res, 204);
    expect(res.text).toBe('');
    expectStatus(await post('/v1/auth/refresh', { refreshToken: other.refreshToken }), 401);
    expectStatus(await post('/v1/auth/refresh', { refreshToken: current.refreshToken }), 200);
    expectStatus(await post('/v1/auth/login', { email: mail, password: PW }), 401);
    await login(mail, 'a brand new password');
  });

  it('GET /v1/me/sessions → the live sessions with exactly their fields, current marked', async () => {
    const mail = email('sess');
    await register('Sess', mail);
    const a = await login(mail, PW, { 'user-agent': 'contract-agent/1.0' });
    const b = await login(mail);
    await post('/v1/auth/logout', { refreshToken: b.refreshToken });
    const res = await get('/v1/me/sessions', a.accessToken);
    expectStatus(res, 200);
    expect(Object.keys(res.body)).toEqual(['data']);
    expect(res.body.data).toHaveLength(2); // the registration's and a's; b is logged out
    for (const s of res.body.data) {
      expect(Object.keys(s).sort()).toEqual(['createdAt', 'current', 'id', 'ip', 'lastUsedAt', 'userAgent']);
      expect(s.createdAt).toMatch(ISO);
      expect(s.lastUsedAt).toMatch(ISO);
      expect(typeof s.current).toBe('boolean');
      expect(s.ip === null || typeof s.ip === 'string').toBe(true);
    }
    const current = res.body.data.filter((s: any) => s.current);
    expect(current).toHaveLength(1);
    expect(current[0].userAgent).toBe('contract-agent/1.0');
    // A session is one login and the refresh tokens rotated from it: a refresh keeps its id, and marks it used.
    await new Promise((r) => setTimeout(r, 20));
    const rotated = await post('/v1/auth/refresh', { refreshToken: a.refreshToken });
    expectStatus(rotated, 200);
    const after = await get('/v1/me/sessions', rotated.body.accessToken);
    expect(after.body.data.map((s: any) => s.id).sort()).toEqual(res.body.data.map((s: any) => s.id).sort());
    const same = after.body.data.find((s: any) => s.current);
    expect(same.id).toBe(current[0].id);
    expect(Date.parse(same.lastUsedAt)).toBeGreaterThan(Date.parse(current[0].lastUsedAt));
  });

  it('DELETE /v1/me/sessions/:id → 204 revokes one session; another user’s id is a 404', async () => {
    const mail = email('del');
    await register('Del', mail);
    const a = await login(mail);
    const b = await login(mail);
    const list = await get('/v1/me/sessions', a.accessToken);
    const target = list.body.data.find((s: any) => !s.current && s.id === JSON.parse(Buffer.from(b.accessToken.split('.')[1]!, 'base64url').toString()).sid);
    expect(target).toBeDefined();
    // Not the caller's: someone else's session id.
    const theirs = (await get('/v1/me/sessions', viewer.accessToken)).body.data[0].id;
    expectStatus(await del(`/v1/me/sessions/${theirs}`, a.accessToken), 404);
    expect((await get('/v1/me/sessions', viewer.accessToken)).body.data.map((s: any) => s.id)).toContain(theirs);
    for (const id of ['nope', '123', '00000000-0000-4000-8000-000000000000', "' or 1=1 --"]) {
      expectStatus(await del(`/v1/me/sessions/${encodeURIComponent(id)}`, a.accessToken), 404);
    }
    const res = await del(`/v1/me/sessions/${target.id}`, a.accessToken);
    expectStatus(res, 204);
    expect(res.text).toBe('');
    expectStatus(await post('/v1/auth/refresh', { refreshToken: b.refreshToken }), 401);
    expect((await get('/v1/me/sessions', a.accessToken)).body.data.map((s: any) => s.id)).not.toContain(target.id);
    expectStatus(await del(`/v1/me/sessions/${target.id}`), 401);
    expectStatus(await post('/v1/auth/refresh', { refreshToken: a.refreshToken }), 200);
  });

  it('a token whose user was deleted is refused (401)', async () => {
    const gone = await register('Gone');
    expectStatus(await del(`/v1/users/${gone.user.id}`, root.accessToken), 204);
    expectStatus(await get('/v1/me', gone.accessToken), 401);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('§5 users', () => {
  const people: any[] = [];
  const q = `qx${tag}`;

  beforeAll(async () => {
    for (const [name, roles, disabled] of [
      ['Ann', ['viewer'], false],
      ['Bea', ['analyst'], false],
      ['Cid', ['viewer', 'analyst'], true],
      ['Dee', [], false],
      ['Eve', ['viewer'], false],
    ] as const) {
      const res = await post('/v1/users', { name: `${name} ${q}`, email: `${name.toLowerCase()}-${q}@contract.test`, password: PW, roles, disabled }, root.accessToken);
      expectStatus(res, 201);
      people.push(res.body);
    }
  });

  it('who may call: admin everything; analyst reads; viewer only their own id; no token 401', async () => {
    const id = people[0].id;
    for (const t of [root.accessToken, analyst.accessToken]) {
      expectStatus(await get('/v1/users', t), 200);
      expectStatus(await get(`/v1/users/${id}`, t), 200);
    }
    expectStatus(await get('/v1/users', viewer.accessToken), 403);
    expectStatus(await get(`/v1/users/${id}`, viewer.accessToken), 403);
    const own = await get(`/v1/users/${viewer.user.id}`, viewer.accessToken);
    expectStatus(own, 200);
    expectUser(own.body);
    for (const [method, path, body] of [
      ['POST', '/v1/users', { name: 'N', email: email('n'), password: PW }],
      ['PATCH', `/v1/users/${id}`, { name: 'N' }],
      ['DELETE', `/v1/users/${id}`, undefined],
      ['PUT', `/v1/users/${id}/roles`, { roles: ['viewer'] }],
      ['PUT', `/v1/users/${id}/roles/analyst`, undefined],
      ['DELETE', `/v1/users/${id}/roles/viewer`, undefined],
      ['DELETE', `/v1/users/${id}/sessions`, undefined],
    ] as const) {
      expectStatus(await call(method, path, { json: body, token: analyst.accessToken }), 403);
      expectStatus(await call(method, path, { json: body, token: viewer.accessToken }), 403);
      expectStatus(await call(method, path, { json: body }), 401);
    }
    // A viewer may not change themselves through /v1/users either.
    expectStatus(await patch(`/v1/users/${viewer.user.id}`, { name: 'Me' }, viewer.accessToken), 403);
    expectStatus(await put(`/v1/users/${viewer.user.id}/roles/admin`, undefined, viewer.accessToken), 403);
    expect((await get(`/v1/users/${people[0].id}`, root.accessToken)).body).toEqual(people[0]);
  });

  it('GET /v1/users: q (name or email, case-insensitive substring), role, disabled', async () => {
    const byQ = await get(`/v1/users?q=${q.toUpperCase()}&limit=100`, root.accessToken);
    expectStatus(byQ, 200);
    expect(byQ.body.data.map((u: any) => u.id).sort()).toEqual(people.map((p) => p.id).sort());
    const byEmail = await get(`/v1/users?q=${encodeURIComponent(`EVE-${q}@`)}`, root.accessToken);
    expect(byEmail.body.data.map((u: any) => u.name)).toEqual([`Eve ${q}`]);
    const byName = await get(`/v1/users?q=${encodeURIComponent(`bea ${q}`)}`, root.accessToken);
    expect(byName.body.data.map((u: any) => u.name)).toEqual([`Bea ${q}`]);
    for (const literal of ['%', '_', '\\', "'"]) expectStatus(await get(`/v1/users?q=${encodeURIComponent(literal)}`, root.accessToken), 200);
    expect((await get(`/v1/users?q=${encodeURIComponent('%')}${q}`, root.accessToken)).body.data).toEqual([]);
    const analysts = await get(`/v1/users?q=${q}&role=analyst`, root.accessToken);
    expect(analysts.body.data.map((u: any) => u.name).sort()).toEqual([`Bea ${q}`, `Cid ${q}`]);
    const disabled = await get(`/v1/users?q=${q}&disabled=true`, root.accessToken);
    expect(disabled.body.data.map((u: any) => u.name)).toEqual([`Cid ${q}`]);
    const enabled = await get(`/v1/users?q=${q}&disabled=false`, root.accessToken);
    expect(enabled.body.data).toHaveLength(4);
    expect((await get(`/v1/users?q=${q}&role=nosuchrole`, root.accessToken)).body).toEqual({ data: [], nextCursor: null });
    expectStatus(await get(`/v1/users?q=${'q'.repeat(101)}`, root.accessToken), 422);
    expectStatus(await get('/v1/users?disabled=maybe', root.accessToken), 422);
  });

  it('GET /v1/users: sort is one of createdAt, -createdAt (default), name, -name, email, -email — and pages follow it', async () => {
    const names = people.map((p) => p.name);
    const emails = people.map((p) => p.email);
    const ids = people.map((p) => p.id);
    const expected: Record<string, unknown[]> = {
      'name': [...names].sort(),
      '-name': [...names].sort().reverse(),
      'email': [...emails].sort(),
      '-email': [...emails].sort().reverse(),
      'createdAt': ids,
      '-createdAt': [...ids].reverse(),
    };
    const pick = (sort: string, u: any) => (sort.includes('name') ? u.name : sort.includes('email') ? u.email : u.id);
    const dflt = await get(`/v1/users?q=${q}`, root.accessToken);
    expect(dflt.body.data.map((u: any) => u.id)).toEqual(expected['-createdAt']);
    for (const sort of Object.keys(expected)) {
      const got: unknown[] = [];
      let cursor: string | null = null;
      do {
        const page: Res = await get(`/v1/users?q=${q}&sort=${encodeURIComponent(sort)}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, root.accessToken);
        expectStatus(page, 200);
        expect(page.body.data.length).toBeLessThanOrEqual(2);
        got.push(...page.body.data.map((u: any) => pick(sort, u)));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(got, sort).toEqual(expected[sort]);
    }
    for (const sort of ['bogus', 'id', '+name', 'NAME', '--name']) expectStatus(await get(`/v1/users?sort=${encodeURIComponent(sort)}`, root.accessToken), 422);
  });

  it('POST /v1/users → 201 User; roles default to viewer; unknown role → 422 and nothing is written; taken email → 409', async () => {
    const mail = email('made');
    const res = await post('/v1/users', { name: ' Made ', email: ` ${mail.toUpperCase()} `, password: PW }, root.accessToken);
    expectStatus(res, 201);
    expectUser(res.body);
    expect(res.body).toMatchObject({ name: 'Made', email: mail, roles: ['viewer'], disabled: false, lastLoginAt: null });
    await login(mail);
    const two = await post('/v1/users', { name: 'Two', email: email('two'), password: PW, roles: ['analyst', 'admin'] }, root.accessToken);
    expectStatus(two, 201);
    expect([...two.body.roles].sort()).toEqual(['admin', 'analyst']);
    const none = await post('/v1/users', { name: 'None', email: email('none'), password: PW, roles: [] }, root.accessToken);
    expectStatus(none, 201);
    expect(none.body.roles).toEqual([]);

    const ghost = email('ghost');
    const unknown = await post('/v1/users', { name: 'Ghost', email: ghost, password: PW, roles: ['viewer', 'no-such-role'] }, root.accessToken);
    expectStatus(unknown, 422);
    expect(unknown.body.errors.map((e: any) => e.path)).toContain('roles');
    expect(await db('select 1 from users where email = $1', [ghost])).toHaveLength(0);
    expectStatus(await post('/v1/users', { name: 'Dup', email: mail.toUpperCase(), password: PW }, root.accessToken), 409);
    // v2 (§9): without a password the account is an invitation.
    const invited = await post('/v1/users', { name: 'Invited', email: email('invited') }, root.accessToken);
    expectStatus(invited, 201);
    expect(invited.body).toMatchObject({ invited: true, emailVerified: false });
    for (const body of [
      { name: 'X' },
      { name: 'X', email: email('x'), password: 'short' },
      { name: 'X', email: 'nope', password: PW },
      { name: 'X', email: email('x'), password: PW, disabled: 'yes' },
      { name: 'X', email: email('x'), password: PW, roles: 'admin' },
      { name: 'X', email: email('x'), password: PW, roles: ['BAD ROLE'] },
      { name: 'X', email: email('x'), password: PW, id: 1 },
    ]) {
      expectStatus(await post('/v1/users', body, root.accessToken), 422);
    }
  });

  it('GET /v1/users/:id → 200 User; unknown or impossible id → 404', async () => {
    const res = await get(`/v1/users/${people[1].id}`, analyst.accessToken);
    expectStatus(res, 200);
    expect(res.body).toEqual(people[1]);
    for (const id of ['0', '-1', 'abc', '1.5', '99999999', '99999999999999999999', '1e3', '%20']) {
      expectStatus(await get(`/v1/users/${id}`, root.accessToken), 404);
    }
  });

  it('PATCH /v1/users/:id → 200 User; taken email 409; password and disabling revoke refresh tokens', async () => {
    const mail = email('pat');
    const made = await post('/v1/users', { name: 'Pat', email: mail, password: PW }, root.accessToken);
    const id = made.body.id;
    const s1 = await login(mail);
    const renamed = await patch(`/v1/users/${id}`, { name: ' Patricia ', email: ` ${mail.replace('pat', 'patricia').toUpperCase()} ` }, root.accessToken);
    expectStatus(renamed, 200);
    expectUser(renamed.body);
    expect(renamed.body).toMatchObject({ id, name: 'Patricia', email: mail.replace('pat', 'patricia') });
    const newMail = renamed.body.email;
    // Renaming does not end sessions.
    const r1 = await post('/v1/auth/refresh', { refreshToken: s1.refreshToken });
    expectStatus(r1, 200);
    expectStatus(await patch(`/v1/users/${id}`, { email: ROOT.email.toUpperCase() }, root.accessToken), 409);
    expectStatus(await patch(`/v1/users/${id}`, { name: '' }, root.accessToken), 422);
    expectStatus(await patch(`/v1/users/${id}`, { roles: ['admin'] }, root.accessToken), 422);
    expectStatus(await patch('/v1/users/99999999', { name: 'Nobody' }, root.accessToken), 404);
    const unchanged = await patch(`/v1/users/${id}`, {}, root.accessToken);
    expect([200, 422]).toContain(unchanged.status);

    const pw = await patch(`/v1/users/${id}`, { password: 'set by the admin!' }, root.accessToken);
    expectStatus(pw, 200);
    expectStatus(await post('/v1/auth/refresh', { refreshToken: r1.body.refreshToken }), 401);
    expectStatus(await post('/v1/auth/login', { email: newMail, password: PW }), 401);
    const s2 = await login(newMail, 'set by the admin!');

    const off = await patch(`/v1/users/${id}`, { disabled: true }, root.accessToken);
    expectStatus(off, 200);
    expect(off.body.disabled).toBe(true);
    expectStatus(await post('/v1/auth/refresh', { refreshToken: s2.refreshToken }), 401);
    expectStatus(await post('/v1/auth/login', { email: newMail, password: 'set by the admin!' }), 403);
    const on = await patch(`/v1/users/${id}`, { disabled: false }, root.accessToken);
    expect(on.body.disabled).toBe(false);
    await login(newMail, 'set by the admin!');
  });

  it('DELETE /v1/users/:id → 204; then 404; the user’s refresh tokens stop working', async () => {
    const mail = email('bye');
    const made = await post('/v1/users', { name: 'Bye', email: mail, password: PW }, root.accessToken);
    const s = await login(mail);
    const res = await del(`/v1/users/${made.body.id}`, root.accessToken);
    expectStatus(res, 204);
    expect(res.text).toBe('');
    expectStatus(await get(`/v1/users/${made.body.id}`, root.accessToken), 404);
    expectStatus(await del(`/v1/users/${made.body.id}`, root.accessToken), 404);
    expectStatus(await post('/v1/auth/refresh', { refreshToken: s.refreshToken }), 401);
    expectStatus(await post('/v1/auth/login', { email: mail, password: PW }), 401);
    // The email is free again.
    expectStatus(await post('/v1/users', { name: 'Bye Again', email: mail, password: PW }, root.accessToken), 201);
  });

  it('PUT /v1/users/:id/roles → 200 User; replaces the set atomically; unknown role → 422 and nothing changes; revokes refresh tokens', async () => {
    const mail = email('roles');
    const made = await post('/v1/users', { name: 'Roles', email: mail, password: PW, roles: ['viewer'] }, root.accessToken);
    const id = made.body.id;
    const s = await login(mail);
    const res = await put(`/v1/users/${id}/roles`, { roles: ['analyst', 'viewer'] }, root.accessToken);
    expectStatus(res, 200);
    expectUser(res.body);
    expect([...res.body.roles].sort()).toEqual(['analyst', 'viewer']);
    expectStatus(await post('/v1/auth/refresh', { refreshToken: s.refreshToken }), 401);
    const bad = await put(`/v1/users/${id}/roles`, { roles: ['analyst', 'no-such-role'] }, root.accessToken);
    expectStatus(bad, 422);
    expect([...(await get(`/v1/users/${id}`, root.accessToken)).body.roles].sort()).toEqual(['analyst', 'viewer']);
    const only = await put(`/v1/users/${id}/roles`, { roles: ['analyst'] }, root.accessToken);
    expect(only.body.roles).toEqual(['analyst']);
    const empty = await put(`/v1/users/${id}/roles`, { roles: [] }, root.accessToken);
    expectStatus(empty, 200);
    expect(empty.body.roles).toEqual([]);
    expectStatus(await put(`/v1/users/${id}/roles`, {}, root.accessToken), 422);
    expectStatus(await put(`/v1/users/${id}/roles`, { roles: 'viewer' }, root.accessToken), 422);
    expectStatus(await put('/v1/users/99999999/roles', { roles: ['viewer'] }, root.accessToken), 404);
  });

  it('PUT and DELETE /v1/users/:id/roles/:role → 204, idempotent; revokes refresh tokens', async () => {
    const mail = email('one');
    const made = await post('/v1/users', { name: 'One', email: mail, password: PW }, root.accessToken);
    const id = made.body.id;
    const s = await login(mail);
    for (let i = 0; i < 2; i++) {
      const res = await put(`/v1/users/${id}/roles/analyst`, undefined, root.accessToken);
      expectStatus(res, 204);
      expect(res.text).toBe('');
    }
    expect([...(await get(`/v1/users/${id}`, root.accessToken)).body.roles].sort()).toEqual(['analyst', 'viewer']);
    expectStatus(await post('/v1/auth/refresh', { refreshToken: s.refreshToken }), 401);
    for (let i = 0; i < 2; i++) expectStatus(await del(`/v1/users/${id}/roles/viewer`, root.accessToken), 204);
    expect((await get(`/v1/users/${id}`, root.accessToken)).body.roles).toEqual(['analyst']);
    expectStatus(await put(`/v1/users/${id}/roles/no-such-role`, undefined, root.accessToken), 404);
    expectStatus(await put('/v1/users/99999999/roles/viewer', undefined, root.accessToken), 404);
  });

  it('DELETE /v1/users/:id/sessions → 204: every session of that user is revoked', async () => {
    const mail = email('kick');
    await post('/v1/users', { name: 'Kick', email: mail, password: PW }, root.accessToken);
    const a = await login(mail);
    const b = await login(mail);
    const res = await del(`/v1/users/${a.user.id}/sessions`, root.accessToken);
    expectStatus(res, 204);
    for (const p of [a, b]) expectStatus(await post('/v1/auth/refresh', { refreshToken: p.refreshToken }), 401);
    expectStatus(await del('/v1/users/99999999/sessions', root.accessToken), 404);
  });

  it('a change that would leave no enabled admin → 409, and nothing changes', async () => {
    const id = root.user.id;
    const admins = await get('/v1/users?role=admin&disabled=false&limit=100', root.accessToken);
    // Make root the only enabled admin for this test.
    for (const u of admins.body.data) if (u.id !== id) expectStatus(await del(`/v1/users/${u.id}/roles/admin`, root.accessToken), 204);
    const fresh = await login(ROOT.email, ROOT.password);
    const before = (await get(`/v1/users/${id}`, root.accessToken)).body;
    const auditBefore = (await db<{ n: string }>('select count(*) as n from audit_events'))[0]!.n;

    for (const [method, path, body] of [
      ['DELETE', `/v1/users/${id}`, undefined],
      ['PATCH', `/v1/users/${id}`, { disabled: true, name: 'Should Not Stick' }],
      ['DELETE', `/v1/users/${id}/roles/admin`, undefined],
      ['PUT', `/v1/users/${id}/roles`, { roles: ['viewer'] }],
      ['PUT', `/v1/users/${id}/roles`, { roles: [] }],
    ] as const) {
      expectStatus(await call(method, path, { json: body, token: root.accessToken }), 409);
    }
    expectStatus(await del('/v1/roles/admin', root.accessToken), 409);
    expect((await get(`/v1/users/${id}`, root.accessToken)).body).toEqual(before);
    expect((await db<{ n: string }>('select count(*) as n from audit_events'))[0]!.n).toBe(auditBefore);
    // Its sessions were not revoked either.
    const r = await post('/v1/auth/refresh', { refreshToken: fresh.refreshToken });
    expectStatus(r, 200);

    // Two admins removed at once: one wins, an admin remains. The other is refused by the last-admin guard (409),
    // or, when the winner took root's own admin role (which ends root's sessions), by the request-time check (401).
    const second = await post('/v1/users', { name: 'Second Admin', email: email('admin2'), password: PW, roles: ['admin'] }, root.accessToken);
    const results = await Promise.all([
      del(`/v1/users/${id}/roles/admin`, root.accessToken),
      del(`/v1/users/${second.body.id}/roles/admin`, root.accessToken),
    ]);
    const statuses = results.map((x) => x.status).sort();
    expect(statuses[0]).toBe(204);
    expect([401, 409]).toContain(statuses[1]);
    const left = await db<{ n: string }>(
      `select count(*) as n from users u join users_roles ur on ur.user_id = u.id join roles r on r.id = ur.role_id where r.name = 'admin' and not u.disabled`,
    );
    expect(Number(left[0]!.n)).toBe(1);
    // Put things back: both admins (straight in the database: root may have lost admin), and sign root in again.
    await db(`insert into users_roles (user_id, role_id) select u, (select id from roles where name = 'admin') from unnest($1::int[]) u on conflict do nothing`, [[id, second.body.id]]);
    root = await login(ROOT.email, ROOT.password);
    // With a second enabled admin, root's own change is allowed: disable the second one instead and back.
    expectStatus(await patch(`/v1/users/${second.body.id}`, { disabled: true }, root.accessToken), 200);
    expectStatus(await patch(`/v1/users/${id}`, { disabled: true }, root.accessToken), 409);
    root = await login(ROOT.email, ROOT.password);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('§6 roles', () => {
  const name = `auditor-${tag}`;

  it('GET /v1/roles → {data: [Role]}, every role, ordered by name; admin and analyst only', async () => {
    const res = await get('/v1/roles', analyst.accessToken);
    expectStatus(res, 200);
    expect(Object.keys(res.body)).toEqual(['data']);
    const names = res.body.data.map((r: any) => r.name);
    expect(names).toEqual([...names].sort());
    const counts = await db<{ name: string; n: number }>(
      'select r.name, (select count(*)::int from users_roles ur where ur.role_id = r.id) as n from roles r',
    );
    expect(names.sort()).toEqual(counts.map((c) => c.name).sort());
    for (const r of res.body.data) expect(r.userCount).toBe(counts.find((c) => c.name === r.name)!.n);
    expectStatus(await get('/v1/roles', viewer.accessToken), 403);
    expectStatus(await get('/v1/roles'), 401);
  });

  it('POST /v1/roles → 201 Role (userCount 0); 409 on a taken name; admin only', async () => {
    const res = await post('/v1/roles', { name }, root.accessToken);
    expectStatus(res, 201);
    expectRole(res.body);
    expect(res.body).toMatchObject({ name, description: null, userCount: 0 });
    expectStatus(await post('/v1/roles', { name }, root.accessToken), 409);
    expectStatus(await post('/v1/roles', { name: 'admin' }, root.accessToken), 409);
    expectStatus(await post('/v1/roles', { name: `x-${tag}` }, analyst.accessToken), 403);
    expectStatus(await post('/v1/roles', { name: `x-${tag}` }, viewer.accessToken), 403);
    expectStatus(await post('/v1/roles', { name: `x-${tag}`, extra: 1 }, root.accessToken), 422);
    const withDescription = await post('/v1/roles', { name: `described-${tag}`, description: 'Reads things' }, root.accessToken);
    expectStatus(withDescription, 201);
    expect(withDescription.body.description).toBe('Reads things');
    const race = `race-${tag}`;
    const results = await Promise.all(Array.from({ length: 6 }, () => post('/v1/roles', { name: race }, root.accessToken)));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
  });

  it('GET /v1/roles/:role → 200 Role; PATCH {description} → 200 Role; name immutable', async () => {
    const one = await get(`/v1/roles/${name}`, analyst.accessToken);
    expectStatus(one, 200);
    expectRole(one.body);
    expectStatus(await get(`/v1/roles/${name}`, viewer.accessToken), 403);
    expectStatus(await get('/v1/roles/nosuch', root.accessToken), 404);
    expectStatus(await get('/v1/roles/Not%20A%20Name', root.accessToken), 404);
    const changed = await patch(`/v1/roles/${name}`, { description: 'Reads the audit trail' }, root.accessToken);
    expectStatus(changed, 200);
    expectRole(changed.body);
    expect(changed.body).toMatchObject({ name, description: 'Reads the audit trail', id: one.body.id, createdAt: one.body.createdAt });
    const cleared = await patch(`/v1/roles/${name}`, { description: null }, root.accessToken);
    expectStatus(cleared, 200);
    expect(cleared.body.description).toBeNull();
    expectStatus(await patch(`/v1/roles/${name}`, { name: 'renamed' }, root.accessToken), 422);
    expectStatus(await patch(`/v1/roles/${name}`, { description: 5 }, root.accessToken), 422);
    expectStatus(await patch(`/v1/roles/${name}`, { description: 'x' }, analyst.accessToken), 403);
    expectStatus(await patch('/v1/roles/nosuch', { description: 'x' }, root.accessToken), 404);
    // Built-ins' descriptions can change too (only deletion is refused).
    const viewerRole = await get('/v1/roles/viewer', root.accessToken);
    expectStatus(await patch('/v1/roles/viewer', { description: viewerRole.body.description }, root.accessToken), 200);
  });

  it('GET /v1/roles/:role/users → page of User holding the role', async () => {
    const holders = [];
    for (let i = 0; i < 3; i++) {
      const u = await post('/v1/users', { name: `Holder ${i}`, email: email('holder'), password: PW, roles: [name] }, root.accessToken);
      expectStatus(u, 201);
      holders.push(u.body.id);
    }
    expect((await get(`/v1/roles/${name}`, root.accessToken)).body.userCount).toBe(3);
    const p1 = await get(`/v1/roles/${name}/users?limit=2`, analyst.accessToken);
    expectStatus(p1, 200);
    expect(Object.keys(p1.body).sort()).toEqual(['data', 'nextCursor']);
    expect(p1.body.data).toHaveLength(2);
    p1.body.data.forEach(expectUser);
    for (const u of p1.body.data) expect(u.roles).toContain(name);
    const p2 = await get(`/v1/roles/${name}/users?limit=2&cursor=${encodeURIComponent(p1.body.nextCursor)}`, analyst.accessToken);
    expectStatus(p2, 200);
    expect(p2.body.data).toHaveLength(1);
    expect(p2.body.nextCursor).toBeNull();
    expect([...p1.body.data, ...p2.body.data].map((u: any) => u.id).sort()).toEqual(holders.sort());
    const all = await get(`/v1/roles/${name}/users`, root.accessToken);
    expect(all.body.data).toHaveLength(3);
    expect(all.body.nextCursor).toBeNull();
    expectStatus(await get(`/v1/roles/viewer/users?cursor=${encodeURIComponent(p1.body.nextCursor)}`, root.accessToken), 400);
    expectStatus(await get(`/v1/roles/${name}/users?cursor=tampered`, root.accessToken), 400);
    expectStatus(await get(`/v1/roles/${name}/users?limit=0`, root.accessToken), 422);
    expectStatus(await get('/v1/roles/nosuch/users', root.accessToken), 404);
    expectStatus(await get(`/v1/roles/${name}/users`, viewer.accessToken), 403);
  });

  it('DELETE /v1/roles/:role → 204, its assignments go with it; built-ins 409; admin only', async () => {
    const holder = (await get(`/v1/roles/${name}/users?limit=1`, root.accessToken)).body.data[0];
    expectStatus(await del(`/v1/roles/${name}`, analyst.accessToken), 403);
    const res = await del(`/v1/roles/${name}`, root.accessToken);
    expectStatus(res, 204);
    expect(res.text).toBe('');
    expectStatus(await get(`/v1/roles/${name}`, root.accessToken), 404);
    expectStatus(await del(`/v1/roles/${name}`, root.accessToken), 404);
    expect((await get(`/v1/users/${holder.id}`, root.accessToken)).body.roles).not.toContain(name);
    expect(await db(`select 1 from users_roles ur join roles r on r.id = ur.role_id where r.name = $1`, [name])).toHaveLength(0);
    for (const builtIn of ['admin', 'analyst', 'viewer']) expectStatus(await del(`/v1/roles/${builtIn}`, root.accessToken), 409);
    // The name can be created again, fresh.
    const again = await post('/v1/roles', { name }, root.accessToken);
    expectStatus(again, 201);
    expect(again.body.userCount).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('§7 dashboard analytics', () => {
  const utcDay = (d: Date) => d.toISOString().slice(0, 10);

  it('GET /v1/stats/overview → the documented shape; admin or analyst only', async () => {
    for (const t of [root.accessToken, analyst.accessToken]) expectStatus(await get('/v1/stats/overview', t), 200);
    expectStatus(await get('/v1/stats/overview', viewer.accessToken), 403);
    expectStatus(await get('/v1/stats/overview'), 401);
    const res = await get('/v1/stats/overview', root.accessToken);
    const o = res.body;
    expect(Object.keys(o).sort()).toEqual(['activeUsers', 'logins', 'mfa', 'previous', 'roles', 'sessions', 'signups', 'users']);
    expect(Object.keys(o.users).sort()).toEqual(['disabled', 'enabled', 'newInPeriod', 'total']);
    expect(Object.keys(o.activeUsers).sort()).toEqual(['day', 'month', 'week']);
    for (const v of [...Object.values(o.users), ...Object.values(o.activeUsers)]) expect(Number.isInteger(v) && (v as number) >= 0).toBe(true);
    expect(o.users.total).toBe(o.users.enabled + o.users.disabled);
    const counts = await db<{ total: number; disabled: number }>('select count(*)::int as total, count(*) filter (where disabled)::int as disabled from users');
    expect(o.users.total).toBe(counts[0]!.total);
    expect(o.users.disabled).toBe(counts[0]!.disabled);
    expect(o.activeUsers.day).toBeGreaterThanOrEqual(1);
    expect(o.activeUsers.day).toBeLessThanOrEqual(o.activeUsers.week);
    expect(o.activeUsers.week).toBeLessThanOrEqual(o.activeUsers.month);
    const roleNames = o.roles.map((r: any) => r.name);
    expect(roleNames).toEqual(expect.arrayContaining(['admin', 'analyst', 'viewer']));
    for (const r of o.roles) {
      expect(Object.keys(r).sort()).toEqual(['name', 'users']);
      expect(Number.isInteger(r.users)).toBe(true);
    }
    const roles = await get('/v1/roles', root.accessToken);
    for (const r of roles.body.data) expect(o.roles.find((x: any) => x.name === r.name)?.users).toBe(r.userCount);
  });

  it('series: one entry per UTC day of the period, oldest first, zero-filled; days 1..365, default 30', async () => {
    for (const days of [1, 7, 30, 365, undefined]) {
      const before = utcDay(new Date());
      const res = await get(`/v1/stats/overview${days ? `?days=${days}` : ''}`, root.accessToken);
      const after = utcDay(new Date());
      expectStatus(res, 200);
      const n = days ?? 30;
      const { signups, logins, users } = res.body;
      expect(signups).toHaveLength(n);
      expect(logins).toHaveLength(n);
      for (const s of signups) {
        expect(Object.keys(s).sort()).toEqual(['count', 'date']);
        expect(s.date).toMatch(DAY);
        expect(Number.isInteger(s.count) && s.count >= 0).toBe(true);
      }
      for (const l of logins) {
        expect(Object.keys(l).sort()).toEqual(['date', 'failed', 'succeeded']);
        expect(Number.isInteger(l.succeeded) && Number.isInteger(l.failed)).toBe(true);
      }
      const last = signups[n - 1].date;
      expect([before, after]).toContain(last);
      for (let i = 0; i < n; i++) {
        const expected = utcDay(new Date(Date.parse(`${last}T00:00:00Z`) - (n - 1 - i) * 86_400_000));
        expect(signups[i].date).toBe(expected);
        expect(logins[i].date).toBe(expected);
      }
      expect(users.newInPeriod).toBe(signups.reduce((sum: number, s: any) => sum + s.count, 0));
      // Everything in this database happened today: all earlier days are zero.
      for (let i = 0; i < n - 1; i++) {
        expect(signups[i].count).toBe(0);
        expect(logins[i]).toEqual({ date: logins[i].date, succeeded: 0, failed: 0 });
      }
      const today = await db<{ users: number; ok: number; failed: number }>(
        `select (select count(*)::int from users where created_at >= (now() at time zone 'UTC')::date::timestamp at time zone 'UTC') as users,
                (select count(*)::int from audit_events where action = 'auth.login') as ok,
                (select count(*)::int from audit_events where action = 'auth.login_failed') as failed`,
      );
      expect(signups[n - 1].count).toBe(today[0]!.users);
      expect(logins[n - 1].succeeded).toBe(today[0]!.ok);
      expect(logins[n - 1].failed).toBe(today[0]!.failed);
    }
    for (const days of ['0', '366', '-1', 'abc', '1.5', '', '30days']) {
      expectStatus(await get(`/v1/stats/overview?days=${days}`, root.accessToken), 422);
    }
  });

  it('GET /v1/audit → page of events with exactly their fields; admin only; filters; cursor', async () => {
    expectStatus(await get('/v1/audit', analyst.accessToken), 403);
    expectStatus(await get('/v1/audit', viewer.accessToken), 403);
    expectStatus(await get('/v1/audit'), 401);
    const res = await get('/v1/audit', root.accessToken);
    expectStatus(res, 200);
    expect(Object.keys(res.body).sort()).toEqual(['data', 'nextCursor']);
    expect(res.body.data).toHaveLength(20);
    for (const e of res.body.data) {
      expect(Object.keys(e).sort()).toEqual(['action', 'actorId', 'at', 'details', 'id', 'ip', 'targetId', 'targetType']);
      expect(e.at).toMatch(ISO);
      expect(e.actorId === null || Number.isInteger(e.actorId)).toBe(true);
      expect(e.ip === null || typeof e.ip === 'string').toBe(true);
      expect(typeof e.targetType).toBe('string');
      expect(e.details && typeof e.details === 'object' && !Array.isArray(e.details)).toBe(true);
    }
    const ids = res.body.data.map((e: any) => e.id);
    expect(ids).toEqual([...ids].sort((a: number, b: number) => b - a));
    const next = await get(`/v1/audit?cursor=${encodeURIComponent(res.body.nextCursor)}`, root.accessToken);
    expect(Math.max(...next.body.data.map((e: any) => e.id))).toBeLessThan(Math.min(...ids));

    const mine = await get(`/v1/audit?actorId=${root.user.id}&limit=100`, root.accessToken);
    expect(mine.body.data.length).toBeGreaterThan(0);
    for (const e of mine.body.data) expect(e.actorId).toBe(root.user.id);
    const failed = await get('/v1/audit?action=auth.login_failed&limit=100', root.accessToken);
    expect(failed.body.data.length).toBeGreaterThan(0);
    for (const e of failed.body.data) expect(e.action).toBe('auth.login_failed');
    for (const bad of ['action=bogus', 'action=', 'actorId=abc', 'actorId=0', 'actorId=-1', 'actorId=99999999999', 'limit=0', 'limit=101']) {
      expectStatus(await get(`/v1/audit?${bad}`, root.accessToken), 422);
    }
    expectStatus(await get('/v1/audit?cursor=tampered', root.accessToken), 400);
  });

  it('every documented action is recorded by the flows above', async () => {
    const rows = await db<{ action: string }>('select distinct action from audit_events');
    const recorded = rows.map((r) => r.action);
    for (const action of [
      'user.register', 'auth.login', 'auth.login_failed', 'auth.logout', 'auth.refresh_reuse', 'user.create', 'user.update',
      'user.delete', 'user.password_change', 'role.create', 'role.update', 'role.delete', 'role.assign', 'role.unassign',
    ]) {
      expect(recorded, action).toContain(action);
      const page = await get(`/v1/audit?action=${action}&limit=1`, root.accessToken);
      expectStatus(page, 200);
      expect(page.body.data[0]?.action, action).toBe(action);
    }
    // A refused change writes no audit row (same transaction as the change).
    const n = async () => Number((await db<{ n: string }>('select count(*) as n from audit_events'))[0]!.n);
    const before = await n();
    expectStatus(await post('/v1/users', { name: 'No', email: email('no'), password: PW, roles: ['no-such-role'] }, root.accessToken), 422);
    expectStatus(await post('/v1/roles', { name: 'admin' }, root.accessToken), 409);
    expectStatus(await del('/v1/roles/viewer', root.accessToken), 409);
    expect(await n()).toBe(before);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('§0/§2 the database goes away', () => {
  it('GET /health → 503 {status: degraded, db: unreachable}; other routes 503 problem+json; then recovers', async () => {
    await stack.stopDatabase();
    try {
      const health = await get('/health');
      expect(health.status).toBe(503);
      expect(health.body).toEqual({ status: 'degraded', db: 'unreachable' });
      const me = await get('/v1/me', root.accessToken);
      expectStatus(me, 503);
      expect(me.headers.get('retry-after')).toMatch(/^\d+$/);
      expectStatus(await post('/v1/auth/login', { email: ROOT.email, password: ROOT.password }), 503);
    } finally {
      await stack.startDatabase();
    }
    expectStatus(await get('/health'), 200);
  }, 60_000);
});
