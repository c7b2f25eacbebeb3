/**
 * What every contract file (test/node/contract/*.test.ts, one per section of ../shared/api-contract.md) shares: the
 * HTTP contract line by line, as a client sees it: real HTTP with fetch against `wrangler dev` (workerd) in front of a
 * throw-away PostgreSQL. Every response is checked for the §0 conventions (X-Request-Id, problem+json shape,
 * camelCase, no internals) by `call` itself; the tests check the rest.
 *
 * One live stack per file (`useContractStack()`). The signing key is ours, so tokens can be forged (expired, wrong
 * audience, alg none…); §3 asks for a second Worker with ALLOW_SIGNUP=false on the same database.
 */
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, expect } from 'vitest';
import { ensureAdmin } from '../../../scripts/admin/ensure-admin';
import { generateSigningKey } from '../../../scripts/dev/keys';
import { isWranglerRestart503, query, startLiveStack, startWorker, type LiveStack } from '../../../scripts/dev/live-stack';

export const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const DAY = /^\d{4}-\d{2}-\d{2}$/;
export const CAMEL = /^[a-z][a-zA-Z0-9]*$/;
export const USER_KEYS = ['createdAt', 'disabled', 'email', 'emailVerified', 'id', 'invited', 'lastLoginAt', 'mfaEnabled', 'name', 'roles'];
export const ROLE_KEYS = ['createdAt', 'description', 'id', 'name', 'permissions', 'userCount'];
// What must never reach a client: hashes, SQL, driver messages, stack frames.
export const LEAK = /\$scrypt\$|hashed_password|token_hash|\bselect\b[^"]*\bfrom\b|insert into|duplicate key|violates|ECONNREFUSED|node_modules|\.ts:\d+|\bat \S+ \(/i;
export const HASH_PARAMS = 'N=1024,r=8,p=1';
export const tag = `c${Date.now().toString(36)}`;
export let seq = 0;
export const email = (p: string) => `${p}-${++seq}-${tag}@contract.test`;
export const PW = 'correct horse battery';

export let stack: LiveStack;
export let base: string;
export let signingJwk: JWK & { kid: string };
export let secondJwk: JWK & { kid: string };
/** The second Worker of §3 (sign-up closed, short lifetimes and lockout window), when the file asked for it. */
export let closedWorker: Promise<{ url: string; close(): Promise<void> }>;

export interface Res {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

export interface CallOptions {
  json?: unknown;
  raw?: BodyInit;
  token?: string;
  headers?: Record<string, string>;
  base?: string;
}

export function checkCamel(value: unknown, where: string) {
  if (Array.isArray(value)) value.forEach((v) => checkCamel(v, where));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      expect(k, `${where}: field name ${k} is camelCase`).toMatch(CAMEL);
      checkCamel(v, where);
    }
  }
}

/** One request, with every §0 convention checked on the answer. */
export async function call(method: string, path: string, o: CallOptions = {}): Promise<Res> {
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

  if (res.status === 503 && isWranglerRestart503(text)) {
    throw new Error(`${where}: wrangler dev's ProxyWorker answered, not the API: "${text.slice(0, 60)}…" (a request lost on ` +
      `an idle pooled connection inside wrangler 4.86; docs/ops.md, "Your worker restarted mid-request")`);
  }
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

export const get = (path: string, token?: string, headers?: Record<string, string>) => call('GET', path, { token, headers });
export const post = (path: string, json?: unknown, token?: string) => call('POST', path, { json, token });
export const patch = (path: string, json?: unknown, token?: string) => call('PATCH', path, { json, token });
export const put = (path: string, json?: unknown, token?: string) => call('PUT', path, { json, token });
export const del = (path: string, token?: string) => call('DELETE', path, { token });

export function expectStatus(res: Res, status: number, slug?: string) {
  expect(res.status, `${res.text.slice(0, 300)}`).toBe(status);
  if (slug) expect(res.body.type).toMatch(new RegExp(`/${slug}$`));
}

export function expectUser(u: any) {
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
export function expectMe(u: any) {
  const { permissions, ...user } = u;
  expect(Array.isArray(permissions)).toBe(true);
  expect(permissions).toEqual([...permissions].sort());
  expectUser(user);
}

export function expectRole(r: any) {
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

export interface Pair {
  tokenType: 'Bearer';
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  user: any;
}

export function expectPair(p: any): Pair {
  expect(Object.keys(p).sort()).toEqual(['accessToken', 'expiresIn', 'refreshToken', 'tokenType', 'user']);
  expect(p.tokenType).toBe('Bearer');
  expect(p.expiresIn).toBe(900);
  expect(p.accessToken).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  // At least 256 random bits: 43 base64url characters or more.
  expect(p.refreshToken).toMatch(/^[A-Za-z0-9_-]{43,}$/);
  expectUser(p.user);
  return p as Pair;
}

export async function register(name = 'Reg User', mail = email('reg'), password = PW): Promise<Pair> {
  const res = await post('/v1/auth/register', { name, email: mail, password });
  expectStatus(res, 201);
  return expectPair(res.body);
}

export async function login(mail: string, password = PW, headers?: Record<string, string>): Promise<Pair> {
  const res = await call('POST', '/v1/auth/login', { json: { email: mail, password }, headers });
  expectStatus(res, 200);
  return expectPair(res.body);
}

export const db = <T extends pg.QueryResultRow = any>(text: string, params: unknown[] = []) => query<T>(stack.databaseUrl, text, params);

/** A token signed with a key the API trusts (or not), with any claims: for expiry, issuer, audience, key checks. */
export async function mint(
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

export const b64url = (s: string) => Buffer.from(s).toString('base64url');

/** Another `wrangler dev` on the same database with other settings (here ALLOW_SIGNUP=false). */
export const startOtherWorker = (databaseUrl: string, vars: Record<string, string>) =>
  startWorker(databaseUrl, { JWT_PRIVATE_KEY: JSON.stringify(signingJwk), PASSWORD_HASH_PARAMS: HASH_PARAMS, SERVER_TIMING: 'false', ...vars });

// The cast of the whole file: one admin bootstrapped in the database, an analyst and a viewer made through the API.
export const ROOT = { email: `root-${tag}@contract.test`, name: 'Root Admin', password: 'root password for the contract' };
export let root: Pair;
export let analyst: Pair;
export let viewer: Pair;
export const analystEmail = email('analyst');

/**
 * The file's live stack and its cast: one admin bootstrapped in the database, an analyst and a viewer made through
 * the API; with `closedWorker`, also the second Worker of §3.
 */
export function useContractStack(options: { closedWorker?: boolean } = {}) {
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
    if (options.closedWorker) {
      // Sign-up closed, and short lifetimes and lockout window, to see the configurable settings take effect.
      closedWorker = startOtherWorker(stack.databaseUrl, { ALLOW_SIGNUP: 'false', ACCESS_TOKEN_TTL: '60', REFRESH_TOKEN_TTL: '3', LOGIN_WINDOW_SECONDS: '3' });
      closedWorker.catch(() => {});
    }
    await ensureAdmin(stack.databaseUrl, ROOT, HASH_PARAMS);
    root = await login(ROOT.email, ROOT.password);
    const made = await post('/v1/users', { name: 'Ann Analyst', email: analystEmail, password: PW, roles: ['analyst'] }, root.accessToken);
    expectStatus(made, 201);
    analyst = await login(analystEmail);
    viewer = await register('Vic Viewer');
  }, 180_000);

  afterAll(async () => {
    await (await closedWorker?.catch(() => undefined))?.close();
    await stack?.close();
  }, 60_000);
}

/** Signs root in again after a test ended its sessions (its admin role taken and given back). */
export async function signInRootAgain() {
  root = await login(ROOT.email, ROOT.password);
}
