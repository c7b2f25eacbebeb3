/**
 * What `npm run bench` drives, one row per endpoint, in the order each round runs them. Edit freely: a route that
 * does not exist (yet) only shows up as errors (404) in the report; it never stops the run.
 *
 * - `worker`: 'app' is the API (src/), 'floor' the bench-only floor Worker (bench/floor-worker.ts).
 * - `path`/`headers`/`body` are functions of the run's context, so tokens, ids and cursors found while preparing a
 *   round can be used. `body` is called for every request (fresh emails, one-use refresh tokens).
 * - `headers` (optional) is called for every request, e.g. a different client address each time.
 * - `onResponse` sees every response body (e.g. to keep the refresh-token chain going).
 * - `auth: 'admin'` sends the bench admin's access token (re-issued before every round).
 */

export interface BenchContext {
  /** Access token of bench-admin@demo.test, or undefined when sign-in failed (requests then go without one). */
  adminToken?: string;
  /** The one password of every seeded user. */
  password: string;
  /** Seeded, enabled users reserved for the login endpoint (each request signs in as the next one). */
  nextLoginEmail(): string;
  /** Refresh tokens that have not been used yet: take one per request, put back the one each answer brings. */
  refreshTokens: string[];
  /** A seeded user to read by id. */
  sampleUserId: number;
  /** A seeded user who gets `analyst` again and again (PUT is idempotent). */
  roleTargetId: number;
  /** nextCursor after walking ~20 pages of 100 users; undefined when the walk failed. */
  deepCursor?: string;
  /** Rows skipped by that walk. */
  deepOffset: number;
  /** The next of 131,070 client addresses in 198.18.0.0/15 (the range reserved for benchmarks, RFC 2544). */
  nextClientIp(): string;
}

export interface Endpoint {
  name: string;
  worker: 'app' | 'floor';
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string | ((ctx: BenchContext) => string);
  auth?: 'admin';
  body?: (ctx: BenchContext) => unknown;
  headers?: (ctx: BenchContext) => Record<string, string>;
  onResponse?: (status: number, body: string, ctx: BenchContext) => void;
  /** Runs at least this long even when --duration is shorter (slow endpoints need time for enough answers). */
  minDurationS?: number;
  /**
   * Marks the floors the report compares against: `runtime` the floor Worker's no-op, `db` its `select 1`, `app` a
   * no-op of the API itself (a 404 of a path no route has) on each API Worker, so a ratio between the two Workers can
   * be read beside the same run's ratio of identical work.
   */
  floor?: 'runtime' | 'db' | 'app';
  note?: string;
}

const MISSING_TOKEN = 'bench-ran-out-of-refresh-tokens';

/**
 * Sign-up, sign-in and refresh are rate limited per client address (CF-Connecting-IP; 300/min): a benchmark from
 * one address would measure the limiter's 429s. Real traffic comes from many addresses, so each request gets another.
 */
const manyClients = (ctx: BenchContext) => ({ 'cf-connecting-ip': ctx.nextClientIp() });

export const endpoints: Endpoint[] = [
  { name: 'noop (runtime floor)', worker: 'floor', method: 'GET', path: '/noop', floor: 'runtime' },
  { name: 'select 1 (db floor)', worker: 'floor', method: 'GET', path: '/select1', floor: 'db' },
  { name: 'no-op 404 (app floor)', worker: 'app', method: 'GET', path: '/bench-noop', floor: 'app' },
  { name: 'GET /health', worker: 'app', method: 'GET', path: '/health' },
  // No database and no token: the fixed cost of the app's middleware, against the runtime floor above.
  { name: 'GET /.well-known/jwks.json', worker: 'app', method: 'GET', path: '/.well-known/jwks.json' },
  {
    name: 'POST /v1/auth/refresh',
    worker: 'app',
    method: 'POST',
    path: '/v1/auth/refresh',
    // Every refresh token works once: each answer's new token feeds a later request.
    body: (ctx) => ({ refreshToken: ctx.refreshTokens.shift() ?? MISSING_TOKEN }),
    headers: manyClients,
    onResponse: (status, body, ctx) => {
      if (status !== 200) return;
      try {
        const token = (JSON.parse(body) as { refreshToken?: unknown }).refreshToken;
        if (typeof token === 'string') ctx.refreshTokens.push(token);
      } catch {}
    },
  },
  { name: 'GET /v1/me', worker: 'app', method: 'GET', path: '/v1/me', auth: 'admin' },
  { name: 'GET /v1/users', worker: 'app', method: 'GET', path: '/v1/users', auth: 'admin', note: 'first page' },
  {
    name: 'GET /v1/users (deep page)',
    worker: 'app',
    method: 'GET',
    path: (ctx) => `/v1/users?cursor=${encodeURIComponent(ctx.deepCursor ?? 'no-cursor-found')}`,
    auth: 'admin',
    note: 'cursor after ~2,000 rows',
  },
  { name: 'GET /v1/users?q=user1', worker: 'app', method: 'GET', path: '/v1/users?q=user1', auth: 'admin' },
  { name: 'GET /v1/users/:id', worker: 'app', method: 'GET', path: (ctx) => `/v1/users/${ctx.sampleUserId}`, auth: 'admin' },
  {
    name: 'PUT /v1/users/:id/roles/analyst',
    worker: 'app',
    method: 'PUT',
    path: (ctx) => `/v1/users/${ctx.roleTargetId}/roles/analyst`,
    auth: 'admin',
  },
  { name: 'GET /v1/roles', worker: 'app', method: 'GET', path: '/v1/roles', auth: 'admin' },
  { name: 'GET /v1/stats/overview', worker: 'app', method: 'GET', path: '/v1/stats/overview?days=30', auth: 'admin' },
  { name: 'GET /v1/audit', worker: 'app', method: 'GET', path: '/v1/audit', auth: 'admin' },
  // Last in a round: its queued hashing outlasts the run, and the next endpoint has to wait for it to drain.
  {
    name: 'POST /v1/auth/login',
    worker: 'app',
    method: 'POST',
    path: '/v1/auth/login',
    // Only correct passwords: 5 failures for one email lock it for 15 minutes.
    body: (ctx) => ({ email: ctx.nextLoginEmail(), password: ctx.password }),
    headers: manyClients,
    // ~0.2 s of scrypt each, serialised in one isolate: 10 connections need ~2 s before the first answers arrive.
    minDurationS: 4,
    note: 'one scrypt hash per request',
  },
];
