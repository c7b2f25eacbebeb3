import { expect } from 'vitest';
import type { CallResult } from './harness';

/**
 * Database statements each route may run per request (counted by the Worker, reported in Server-Timing).
 * Every route but two answers in one statement: reads build the User/Role JSON (roles included) in SQL, and each change
 * writes its rows, revokes sessions and writes its audit row in CTEs of a single statement.
 */
export const budgets = {
  'GET /health': 1,
  'GET /.well-known/jwks.json': 0,
  'GET /openapi.json': 0,
  'GET /docs': 0,
  // The console (§12): a redirect, and its index.html from the static assets for a page path.
  'GET /': 0,
  'GET /console/*': 0,
  // Sign-up, sign-in and refresh: +1 where Cloudflare's Rate Limiting binding is absent (PostgreSQL fallback).
  'POST /v1/auth/register': 1,
  // The attempt is reserved (and the account loaded) before hashing, then the outcome is written.
  'POST /v1/auth/login': 2,
  'POST /v1/auth/refresh': 1,
  'POST /v1/auth/logout': 1,
  'POST /v1/auth/logout-all': 1,
  'GET /v1/me': 1,
  'PATCH /v1/me': 1,
  // The current hash is read and verified in the Worker before the change is written.
  'POST /v1/me/password': 2,
  'GET /v1/me/sessions': 1,
  'DELETE /v1/me/sessions/:id': 1,
  'GET /v1/stats/overview': 1,
  'GET /v1/stats/active-users': 1,
  'GET /v1/stats/retention': 1,
  // Exports: one statement per page of 2,000 rows; the answer's Server-Timing counts the first, run before it starts.
  'GET /v1/users/export': 1,
  'GET /v1/audit/export': 1,
  'GET /v1/audit': 1,
  'GET /v1/users': 1,
  'POST /v1/users': 1,
  'GET /v1/users/:id': 1,
  'PATCH /v1/users/:id': 1,
  'DELETE /v1/users/:id': 1,
  'PUT /v1/users/:id/roles': 1,
  'PUT /v1/users/:id/roles/:role': 1,
  'DELETE /v1/users/:id/roles/:role': 1,
  'DELETE /v1/users/:id/sessions': 1,
  'GET /v1/roles': 1,
  'POST /v1/roles': 1,
  'GET /v1/roles/:role': 1,
  'PATCH /v1/roles/:role': 1,
  'DELETE /v1/roles/:role': 1,
  'GET /v1/roles/:role/users': 1,
  'GET /v1/permissions': 1,
  // Account lifecycle (§9). Email is queued inside the statement; delivery runs after the response on its own handle.
  'GET /v1/dev/mailbox': 1,
  'POST /v1/auth/invitation/accept': 1,
  'POST /v1/auth/password/forgot': 1,
  'POST /v1/auth/password/reset': 1,
  'POST /v1/auth/email/verify': 1,
  'POST /v1/auth/email/confirm': 1,
  'POST /v1/me/email/verification': 1,
  // As POST /v1/me/password: the hash is read (and a lockout attempt reserved), verified, then the request written.
  'POST /v1/me/email': 2,
  'POST /v1/users/:id/invitation': 1,
  'POST /v1/users/:id/unlock': 1,
  // Second factor (contract §10). Routes that check a password or code first read (and reserve a lockout attempt),
  // then write the outcome conditional on what was checked; a failure's audit row is the second statement.
  'POST /v1/me/mfa/totp': 2,
  'POST /v1/me/mfa/totp/confirm': 2,
  'POST /v1/me/mfa/recovery-codes': 2,
  'POST /v1/me/mfa/disable': 2,
  'DELETE /v1/users/:id/mfa': 1,
  'POST /v1/auth/mfa': 2,
  // Sources (§13): each read or change in one statement (a rotation that races another runs again, see rotate.ts).
  'GET /v1/sources': 1,
  'POST /v1/sources': 1,
  'PATCH /v1/sources/:id': 1,
  'POST /v1/sources/:id/rotate': 1,
  'DELETE /v1/sources/:id': 1,
  // Dashboards (§15): each answer, visibility, edit rights, If-Match and the save's checks in one statement.
  'GET /v1/dashboards': 1,
  'POST /v1/dashboards': 1,
  'GET /v1/dashboards/:id': 1,
  'PUT /v1/dashboards/:id': 1,
  'DELETE /v1/dashboards/:id': 1,
  // Who sees it (and its widgets), then, unless cached, every widget's query as subqueries of one statement (should
  // that one fail, each widget alone: +1 per widget).
  'GET /v1/dashboards/:id/data': 2,
  // The write key, the per-source limit and (direct path) the batch itself in one statement; the queue path sends after it.
  'POST /v1/ingest': 1,
  // Single sign-on (§18): the list is configuration; the start stores its sign-in; the callback uses it up, then
  // (after the provider) finds, links or creates the account with its one-time code; the exchange opens the session.
  'GET /v1/auth/oidc/providers': 0,
  'GET /v1/auth/oidc/:id/start': 1,
  'GET /v1/auth/oidc/:id/callback': 2,
  'POST /v1/auth/oidc/exchange': 1,
  // Passkeys (§17). Options store the challenge; registration uses it up and adds the credential in one statement.
  'POST /v1/me/passkeys/options': 1,
  'POST /v1/me/passkeys': 1,
  'GET /v1/me/passkeys': 1,
  'DELETE /v1/me/passkeys/:id': 1,
  // +1 without the Rate Limiting binding, as sign-in. The assertion needs the stored key: the challenge is used up
  // and the credential loaded, then the session (or a refusal's audit row) is written.
  'POST /v1/auth/passkey/options': 1,
  'POST /v1/auth/passkey': 2,
  // API keys (§16): the key is checked inside the route's one statement, as an access token's session is.
  'POST /v1/me/api-keys': 1,
  'GET /v1/me/api-keys': 1,
  'DELETE /v1/me/api-keys/:id': 1,
  'GET /v1/users/:id/api-keys': 1,
  'DELETE /v1/users/:id/api-keys/:keyId': 1,
  // §14: the list, the names and every query kind answer in one statement each.
  'GET /v1/events': 1,
  'GET /v1/events/names': 1,
  'POST /v1/events/query': 1,
} as const;

/**
 * Routes that take no access token. Every other route is authenticated, and each of its statements must carry the
 * caller check of src/auth/authorize.ts (test/budgets.test.ts and test/authz.test.ts compare the counts the Worker
 * reports). Add a public route here; an authenticated one needs nothing.
 */
export const PUBLIC_ROUTES = new Set<string>([
  'GET /health',
  'GET /.well-known/jwks.json',
  'GET /openapi.json',
  'GET /docs',
  'GET /',
  'GET /console/*',
  'POST /v1/auth/register',
  'POST /v1/auth/login',
  'POST /v1/auth/refresh',
  'POST /v1/auth/logout',
  // Account lifecycle (§9): the emailed token is the credential; the mailbox answers only in development.
  'GET /v1/dev/mailbox',
  'POST /v1/auth/invitation/accept',
  'POST /v1/auth/password/forgot',
  'POST /v1/auth/password/reset',
  'POST /v1/auth/email/verify',
  'POST /v1/auth/email/confirm',
  // The second step of a sign-in: the mfaToken is the credential.
  'POST /v1/auth/mfa',
  // §13: the write key is the credential.
  'POST /v1/ingest',
  // Single sign-on (§18): the provider's word, then the one-time code, are the credential.
  'GET /v1/auth/oidc/providers',
  'GET /v1/auth/oidc/:id/start',
  'GET /v1/auth/oidc/:id/callback',
  'POST /v1/auth/oidc/exchange',
  // Passkey sign-in (§17): the signed assertion is the credential.
  'POST /v1/auth/passkey/options',
  'POST /v1/auth/passkey',
]);

export type BudgetedRoute = keyof typeof budgets;

/**
 * Fails when a request ran more statements than its route's budget (and when a route that must query ran none), and
 * when an authenticated route ran a statement without the caller check.
 */
export function expectWithinBudget(route: BudgetedRoute, res: CallResult) {
  expect(res.statements, `${route} ran ${res.statements} statements; budget ${budgets[route]}`).toBeLessThanOrEqual(budgets[route]);
  if (res.status < 300) expect(res.statements, `${route} answered ${res.status} without touching the database`).toBeGreaterThan(0);
  if (!PUBLIC_ROUTES.has(route)) expect(res.guarded, `${route}: statements without the caller check`).toBe(res.statements);
}
