/**
 * Test harness: each test file gets its own database cloned from the migrated template, and calls the Worker
 * through its real `fetch` with bindings pointing at that database.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { Client } from '@neondatabase/serverless';
import { useLocalProxy } from '../src/db/client';
import worker from '../src/index';
import type { Bindings } from '../src/env';

export type TestBindings = Bindings & {
  TEST_PG_URL: string;
  TEST_SECOND_KEY: string;
  TEST_SECOND_CURSOR_SECRET: string;
  TEST_HIBP_SLOW_URL: string;
  TEST_HIBP_DOWN_URL: string;
  TEST_RESEND_URL: string;
  /** A Rate Limiting binding with a limit of 1 per key and minute (vitest.config.ts). */
  TEST_REFUSING_LIMITER: RateLimit;
};
export const baseEnv = env as unknown as TestBindings;

/** Runs statements on a fresh connection (tests read and arrange database state directly). */
export async function query<T = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  useLocalProxy(baseEnv.DB_PROXY!);
  const client = new Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

export interface CallOptions {
  body?: unknown;
  /** Sent as is, without JSON encoding. */
  raw?: BodyInit;
  token?: string;
  headers?: Record<string, string>;
  /** Sets `request.cf`, as Cloudflare's edge does for a deployed Worker (with `cf-connecting-ip` in the headers). */
  cf?: Record<string, unknown>;
  /** The request's host (default `api.test`); e.g. `127.0.0.1:8787` for what only loopback hosts may reach. */
  host?: string;
}

export interface CallResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
  /** Database statements the request ran (from Server-Timing), or 0. */
  statements: number;
  /** Of those, the statements that carried the caller check (src/auth/authorize.ts), or 0. */
  guarded: number;
}

export async function callWorker(bindings: Bindings, method: string, path: string, options: CallOptions = {}): Promise<CallResult> {
  const headers = new Headers(options.headers);
  let body: BodyInit | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  }
  if (options.token) headers.set('authorization', `Bearer ${options.token}`);
  const request = new Request(`http://${options.host ?? 'api.test'}${path}`, { method, headers, body, ...(options.cf ? { cf: options.cf } : {}) } as RequestInit);
  const ctx = createExecutionContext();
  const response = await (worker.fetch as (r: Request, e: Bindings, c: ExecutionContext) => Promise<Response>)(request, bindings, ctx);
  await waitOnExecutionContext(ctx);
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  const timing = /desc="(\d+) statements"/.exec(response.headers.get('server-timing') ?? '');
  const guarded = /authz;desc="(\d+) guarded"/.exec(response.headers.get('server-timing') ?? '');
  return {
    status: response.status,
    headers: response.headers,
    body: type.includes('json') && text ? JSON.parse(text) : text,
    text,
    statements: timing ? Number(timing[1]) : 0,
    guarded: guarded ? Number(guarded[1]) : 0,
  };
}

export interface Harness {
  env: TestBindings;
  databaseUrl: string;
  call(method: string, path: string, options?: CallOptions): Promise<CallResult>;
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** A harness on the same database with other bindings (e.g. a shorter lockout window). */
  with(overrides: Partial<TestBindings>): Harness;
  drop(): Promise<void>;
}

function databaseUrl(name: string) {
  const url = new URL(baseEnv.TEST_PG_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

function harnessFor(bindings: TestBindings, name: string): Harness {
  const url = bindings.DATABASE_URL!;
  return {
    env: bindings,
    databaseUrl: url,
    call: (method, path, options) => callWorker(bindings, method, path, options),
    query: (text, params) => query(url, text, params),
    with: (overrides) => harnessFor({ ...bindings, ...overrides }, name),
    drop: () => query(baseEnv.TEST_PG_URL, `drop database if exists ${name} with (force)`).then(() => undefined),
  };
}

/** A database of this file's own, cloned from the migrated template. */
export async function createHarness(overrides: Partial<TestBindings> = {}): Promise<Harness> {
  const name = `t_${crypto.randomUUID().replaceAll('-', '')}`;
  for (let attempt = 0; ; attempt++) {
    try {
      await query(baseEnv.TEST_PG_URL, `create database ${name} template dashboard_template`);
      break;
    } catch (error) {
      // Two files cloning at the same instant can collide on the template; try again shortly.
      if (attempt >= 10 || !/being accessed|already exists/.test(String(error))) throw error;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
  }
  return harnessFor({ ...baseEnv, DATABASE_URL: databaseUrl(name), ...overrides }, name);
}

let counter = 0;
/** A unique email per call, so tests never collide on data. */
export const uniqueEmail = (tag = 'user') => `${tag}-${Date.now().toString(36)}-${(counter++).toString(36)}@example.com`;

export interface TestUser {
  id: number;
  email: string;
  password: string;
}

/** Inserts a user straight into the database (hashed like the Worker does) with the given roles. */
export async function createUser(
  h: Harness,
  { roles = ['viewer'], disabled = false, name = 'Test User', email = uniqueEmail(), password = 'correct horse battery' }: {
    roles?: string[];
    disabled?: boolean;
    name?: string;
    email?: string;
    password?: string;
  } = {},
): Promise<TestUser> {
  const { hashPassword } = await import('../src/auth/password');
  const hash = await hashPassword(password, h.env.PASSWORD_HASH_PARAMS ?? 'N=1024,r=8,p=1');
  const rows = await h.query<{ id: number }>(
    `with u as (insert into users (name, email, hashed_password, disabled) values ($1, $2, $3, $4) returning id),
          r as (insert into users_roles (user_id, role_id) select u.id, roles.id from u, roles where roles.name = any($5::text[]))
     select id from u`,
    [name, email, hash, disabled, roles],
  );
  return { id: rows[0]!.id, email, password };
}

/** What the dev transport kept for `to`, newest first (GET /v1/dev/mailbox on a loopback host). */
export async function mailbox(h: Harness, to: string): Promise<{ id: string; to: string; subject: string; text: string; html: string; createdAt: string }[]> {
  const res = await h.call('GET', `/v1/dev/mailbox?to=${encodeURIComponent(to)}`, { host: '127.0.0.1:8787' });
  if (res.status !== 200) throw new Error(`mailbox: ${res.status} ${res.text}`);
  return res.body.data;
}

/** The token of the newest link to `to` whose path contains `path` (e.g. 'reset-password'). */
export async function tokenFromMailbox(h: Harness, to: string, path: string): Promise<string> {
  for (const message of await mailbox(h, to)) {
    const match = new RegExp(`/${path}\\?token=([A-Za-z0-9_-]+)`).exec(message.text);
    if (match) return match[1]!;
  }
  throw new Error(`no ${path} link in the mailbox of ${to}`);
}

/** Signs in through the API and returns the token pair. */
export async function signIn(h: Harness, user: { email: string; password: string }) {
  const res = await h.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password } });
  if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${res.text}`);
  return res.body as { accessToken: string; refreshToken: string; expiresIn: number; user: any };
}

/** A user with the given roles, signed in. */
export async function userWithToken(h: Harness, roles: string[] = ['viewer']) {
  const user = await createUser(h, { roles });
  const pair = await signIn(h, user);
  return { ...user, token: pair.accessToken, refreshToken: pair.refreshToken };
}
