/**
 * Each route outside users/roles (whose own tests check their budgets on every call), called once on its happy
 * path, against the budget table. Users/roles are also called here so the table is exercised end to end.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { budgets, expectWithinBudget, PUBLIC_ROUTES, type BudgetedRoute } from './budgets';
import { GUARDED } from './routes';
import { PERMISSION_NAMES } from '../src/auth/permissions';
import { createHarness, createUser, signIn, tokenFromMailbox, uniqueEmail, userWithToken, type Harness } from './harness';
import { Secret } from 'otpauth/bare';
import { totp } from './mfa-helpers';
import { atProvider, callback, landing, startSignIn } from './oidc-flow';
import { SoftAuthenticator } from './passkey-authenticator';
import { ORIGIN } from './passkey-helpers';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.drop());

it('every route stays within its statement budget', async () => {
  const admin = await userWithToken(h, ['admin']);
  const target = await createUser(h);
  const sid = (token: string) => JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))).sid as string;
  const other = await signIn(h, admin);
  // The second-factor routes, in the order a user meets them (each call prepares the next).
  const mfaUser = await userWithToken(h);
  let secret: Uint8Array = new Uint8Array();
  let recovery: string[] = [];
  const mfa = (method: string, path: string, body: object) => h.call(method, path, { token: mfaUser.token, body });
  let sso: Awaited<ReturnType<typeof startSignIn>> | undefined;
  let ssoCode = '';
  // The passkey routes (§17), likewise: options, registration, sign-in, list, removal.
  const passkeyUser = await userWithToken(h);
  const authenticator = new SoftAuthenticator();
  let creation: any = null;
  let request: any = null;
  let passkeyId = 0;
  const calls: [BudgetedRoute, () => ReturnType<Harness['call']>][] = [
    ['GET /health', () => h.call('GET', '/health')],
    ['GET /.well-known/jwks.json', () => h.call('GET', '/.well-known/jwks.json')],
    ['GET /openapi.json', () => h.call('GET', '/openapi.json')],
    ['GET /docs', () => h.call('GET', '/docs')],
    ['GET /', () => h.call('GET', '/')],
    ['GET /console/*', () => h.call('GET', '/console/users/1')],
    ['POST /v1/auth/register', () => h.call('POST', '/v1/auth/register', { body: { name: 'B', email: uniqueEmail('budget'), password: 'long enough password' } })],
    ['POST /v1/auth/login', () => h.call('POST', '/v1/auth/login', { body: { email: target.email, password: target.password } })],
    ['POST /v1/auth/refresh', () => h.call('POST', '/v1/auth/refresh', { body: { refreshToken: other.refreshToken } })],
    ['GET /v1/me', () => h.call('GET', '/v1/me', { token: admin.token })],
    ['PATCH /v1/me', () => h.call('PATCH', '/v1/me', { token: admin.token, body: { name: 'Budget Admin' } })],
    ['GET /v1/me/sessions', () => h.call('GET', '/v1/me/sessions', { token: admin.token })],
    ['DELETE /v1/me/sessions/:id', () => h.call('DELETE', `/v1/me/sessions/${sid(other.accessToken)}`, { token: admin.token })],
    ['GET /v1/stats/overview', () => h.call('GET', '/v1/stats/overview?days=30', { token: admin.token })],
    ['GET /v1/audit', () => h.call('GET', '/v1/audit', { token: admin.token })],
    ...lifecycleCalls(),
    ['GET /v1/stats/active-users', () => h.call('GET', '/v1/stats/active-users?days=90', { token: admin.token })],
    ['GET /v1/stats/retention', () => h.call('GET', '/v1/stats/retention?weeks=12&tz=Europe/Paris', { token: admin.token })],
    ['GET /v1/users/export', () => h.call('GET', '/v1/users/export', { token: admin.token })],
    ['GET /v1/audit/export', () => h.call('GET', '/v1/audit/export', { token: admin.token })],
    ['GET /v1/users', () => h.call('GET', '/v1/users?q=example&sort=name', { token: admin.token })],
    ['GET /v1/users/:id', () => h.call('GET', `/v1/users/${target.id}`, { token: admin.token })],
    ['PATCH /v1/users/:id', () => h.call('PATCH', `/v1/users/${target.id}`, { token: admin.token, body: { name: 'Renamed' } })],
    ['PUT /v1/users/:id/roles/:role', () => h.call('PUT', `/v1/users/${target.id}/roles/analyst`, { token: admin.token })],
    ['DELETE /v1/users/:id/roles/:role', () => h.call('DELETE', `/v1/users/${target.id}/roles/analyst`, { token: admin.token })],
    ['PUT /v1/users/:id/roles', () => h.call('PUT', `/v1/users/${target.id}/roles`, { token: admin.token, body: { roles: ['viewer', 'analyst'] } })],
    ['DELETE /v1/users/:id/sessions', () => h.call('DELETE', `/v1/users/${target.id}/sessions`, { token: admin.token })],
    ['GET /v1/roles', () => h.call('GET', '/v1/roles', { token: admin.token })],
    ['POST /v1/roles', () => h.call('POST', '/v1/roles', { token: admin.token, body: { name: 'budgeted', description: 'd' } })],
    ['GET /v1/roles/:role', () => h.call('GET', '/v1/roles/budgeted', { token: admin.token })],
    ['PATCH /v1/roles/:role', () => h.call('PATCH', '/v1/roles/budgeted', { token: admin.token, body: { description: 'e' } })],
    ['GET /v1/roles/:role/users', () => h.call('GET', '/v1/roles/viewer/users', { token: admin.token })],
    ['GET /v1/permissions', () => h.call('GET', '/v1/permissions', { token: admin.token })],
    ...dashboardCalls(),
    ...apiKeyCalls(),
    ['DELETE /v1/roles/:role', () => h.call('DELETE', '/v1/roles/budgeted', { token: admin.token })],
    ['POST /v1/users', () => h.call('POST', '/v1/users', { token: admin.token, body: { name: 'N', email: uniqueEmail('budget'), password: 'long enough password' } })],
    ['DELETE /v1/users/:id', () => h.call('DELETE', `/v1/users/${target.id}`, { token: admin.token })],
    ['POST /v1/me/mfa/totp', async () => {
      const res = await mfa('POST', '/v1/me/mfa/totp', { currentPassword: mfaUser.password });
      secret = Secret.fromBase32(res.body.secret).bytes;
      return res;
    }],
    ['POST /v1/me/mfa/totp/confirm', () => mfa('POST', '/v1/me/mfa/totp/confirm', { code: totp(secret) })],
    ['POST /v1/me/mfa/recovery-codes', async () => {
      const res = await mfa('POST', '/v1/me/mfa/recovery-codes', { code: totp(secret, 1) });
      recovery = res.body.recoveryCodes;
      return res;
    }],
    ['POST /v1/auth/mfa', async () => {
      const step1 = await h.call('POST', '/v1/auth/login', { body: { email: mfaUser.email, password: mfaUser.password } });
      return h.call('POST', '/v1/auth/mfa', { body: { mfaToken: step1.body.mfaToken, recoveryCode: recovery[0] } });
    }],
    ['POST /v1/me/mfa/disable', () => mfa('POST', '/v1/me/mfa/disable', { currentPassword: mfaUser.password, code: recovery[1]! })],
    ['DELETE /v1/users/:id/mfa', () => h.call('DELETE', `/v1/users/${mfaUser.id}/mfa`, { token: admin.token })],
    ...sourceCalls(),
    ['POST /v1/me/passkeys/options', async () => {
      const res = await h.call('POST', '/v1/me/passkeys/options', { token: passkeyUser.token });
      creation = res.body;
      return res;
    }],
    ['POST /v1/me/passkeys', async () => {
      const response = await authenticator.create(creation, { origin: ORIGIN });
      const res = await h.call('POST', '/v1/me/passkeys', { token: passkeyUser.token, body: { name: 'Budget key', response } });
      passkeyId = res.body.id;
      return res;
    }],
    ['POST /v1/auth/passkey/options', async () => {
      const res = await h.call('POST', '/v1/auth/passkey/options');
      request = res.body;
      return res;
    }],
    ['POST /v1/auth/passkey', async () => h.call('POST', '/v1/auth/passkey', { body: { response: await authenticator.get(request, { origin: ORIGIN }) } })],
    ['GET /v1/me/passkeys', () => h.call('GET', '/v1/me/passkeys', { token: passkeyUser.token })],
    ['DELETE /v1/me/passkeys/:id', () => h.call('DELETE', `/v1/me/passkeys/${passkeyId}`, { token: passkeyUser.token })],
    ...eventCalls(),
    ['POST /v1/me/password', () => h.call('POST', '/v1/me/password', { token: admin.token, body: { currentPassword: admin.password, newPassword: 'a new long passphrase' } })],
    // Last: after these the admin's sessions (and so its access token) are gone.
    ['POST /v1/auth/logout-all', () => h.call('POST', '/v1/auth/logout-all', { token: admin.token })],
    ['POST /v1/auth/logout', () => h.call('POST', '/v1/auth/logout', { body: { refreshToken: admin.refreshToken } })],
    ['GET /v1/dev/mailbox', () => h.call('GET', '/v1/dev/mailbox?to=nobody@example.com', { host: '127.0.0.1:8787' })],
    // Single sign-on (§18) through the local provider of test/oidc-setup.ts, each step preparing the next.
    ['GET /v1/auth/oidc/providers', () => h.call('GET', '/v1/auth/oidc/providers')],
    ['GET /v1/auth/oidc/:id/start', async () => (sso = await startSignIn(h, 'local', { loginHint: uniqueEmail('budget-sso') })).start],
    ['GET /v1/auth/oidc/:id/callback', async () => {
      const res = await callback(h, await atProvider(sso!.authorize), sso!.cookie);
      ssoCode = landing(res).code!;
      return res;
    }],
    ['POST /v1/auth/oidc/exchange', () => h.call('POST', '/v1/auth/oidc/exchange', { body: { code: ssoCode } })],
  ];
  // The §14 routes: the list, the names and one query of each kind.
  function eventCalls(): [BudgetedRoute, () => ReturnType<Harness['call']>][] {
    const range = { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z', tz: 'Europe/Paris' };
    const query = (body: object) => () => h.call('POST', '/v1/events/query', { token: admin.token, body: { ...range, ...body } });
    return [
      ['GET /v1/events', () => h.call('GET', '/v1/events?event=x', { token: admin.token })],
      ['GET /v1/events/names', () => h.call('GET', '/v1/events/names', { token: admin.token })],
      ['POST /v1/events/query', query({ kind: 'trends', series: [{ event: 'x', math: 'uniques' }], interval: 'day', breakdown: { property: 'p' } })],
      ['POST /v1/events/query', query({ kind: 'funnel', steps: [{ event: 'x' }, { event: 'y' }], windowSeconds: 3600 })],
      ['POST /v1/events/query', query({ kind: 'retention', startEvent: 'x', interval: 'week' })],
    ];
  }
  // The §13 sources routes, each on its happy path, on one source.
  function sourceCalls(): [BudgetedRoute, () => ReturnType<Harness['call']>][] {
    let id = 0;
    let key = '';
    return [
      ['POST /v1/sources', async () => {
        const res = await h.call('POST', '/v1/sources', { token: admin.token, body: { name: 'Budget site' } });
        id = res.body.id;
        key = res.body.writeKey;
        return res;
      }],
      ['GET /v1/sources', () => h.call('GET', '/v1/sources', { token: admin.token })],
      // The direct path (no queue): the one statement also writes the batch.
      ['POST /v1/ingest', () => h.with({ INGEST_QUEUE: undefined }).call('POST', '/v1/ingest', { body: { writeKey: key, events: [{ event: 'budget.checked', userId: 'u1' }] } })],
      ['PATCH /v1/sources/:id', () => h.call('PATCH', `/v1/sources/${id}`, { token: admin.token, body: { name: 'Renamed site' } })],
      ['POST /v1/sources/:id/rotate', () => h.call('POST', `/v1/sources/${id}/rotate`, { token: admin.token, body: { graceSeconds: 60 } })],
      ['DELETE /v1/sources/:id', () => h.call('DELETE', `/v1/sources/${id}`, { token: admin.token })],
    ];
  }
  // §15, each on its happy path, on one dashboard.
  function dashboardCalls(): [BudgetedRoute, () => ReturnType<Harness['call']>][] {
    let id = 0;
    const body = { name: 'Budget', shares: ['viewer'], widgets: [{ title: 'W', viz: 'line', query: { kind: 'trends', series: [{ event: 'e', math: 'total' }], interval: 'day', last: { count: 7, unit: 'day' } } }] };
    return [
      ['POST /v1/dashboards', async () => {
        const res = await h.call('POST', '/v1/dashboards', { token: admin.token, body });
        id = res.body.id;
        return res;
      }],
      ['GET /v1/dashboards', () => h.call('GET', '/v1/dashboards', { token: admin.token })],
      ['GET /v1/dashboards/:id', () => h.call('GET', `/v1/dashboards/${id}`, { token: admin.token })],
      ['GET /v1/dashboards/:id/data', () => h.call('GET', `/v1/dashboards/${id}/data?refresh=true`, { token: admin.token })],
      ['PUT /v1/dashboards/:id', () => h.call('PUT', `/v1/dashboards/${id}`, { token: admin.token, headers: { 'if-match': '"v1"' }, body: { ...body, shares: [] } })],
      ['DELETE /v1/dashboards/:id', () => h.call('DELETE', `/v1/dashboards/${id}`, { token: admin.token })],
    ];
  }
  // The §16 routes, each on its happy path: create, list, an administrator's list and revoke, one's own revoke.
  function apiKeyCalls(): [BudgetedRoute, () => ReturnType<Harness['call']>][] {
    const create = () => h.call('POST', '/v1/me/api-keys', { token: admin.token, body: { name: 'Budget', permissions: ['users:read'] } });
    let keyId = 0;
    return [
      ['POST /v1/me/api-keys', async () => {
        const res = await create();
        keyId = res.body.id;
        return res;
      }],
      ['GET /v1/me/api-keys', () => h.call('GET', '/v1/me/api-keys', { token: admin.token })],
      ['GET /v1/users/:id/api-keys', () => h.call('GET', `/v1/users/${admin.id}/api-keys`, { token: admin.token })],
      ['DELETE /v1/users/:id/api-keys/:keyId', () => h.call('DELETE', `/v1/users/${admin.id}/api-keys/${keyId}`, { token: admin.token })],
      ['DELETE /v1/me/api-keys/:id', async () => h.call('DELETE', `/v1/me/api-keys/${(await create()).body.id}`, { token: admin.token })],
    ];
  }
  // The §9 routes, each on its happy path; tokens come from the dev mailbox as the previous call left it.
  function lifecycleCalls(): [BudgetedRoute, () => ReturnType<Harness['call']>][] {
    const invited = uniqueEmail('budget-invite');
    const member = uniqueEmail('budget-member');
    const moved = uniqueEmail('budget-moved');
    let invitedId = 0;
    let memberToken = '';
    let memberId = 0;
    return [
      ['POST /v1/users/:id/invitation', async () => {
        invitedId = (await h.call('POST', '/v1/users', { token: admin.token, body: { name: 'I', email: invited } })).body.id;
        return h.call('POST', `/v1/users/${invitedId}/invitation`, { token: admin.token });
      }],
      ['POST /v1/auth/invitation/accept', async () =>
        h.call('POST', '/v1/auth/invitation/accept', { body: { token: await tokenFromMailbox(h, invited, 'accept-invitation'), password: 'long enough password' } })],
      ['POST /v1/me/email/verification', async () => {
        const reg = await h.call('POST', '/v1/auth/register', { body: { name: 'M', email: member, password: 'long enough password' } });
        memberToken = reg.body.accessToken;
        memberId = reg.body.user.id;
        return h.call('POST', '/v1/me/email/verification', { token: memberToken });
      }],
      ['POST /v1/auth/email/verify', async () => h.call('POST', '/v1/auth/email/verify', { body: { token: await tokenFromMailbox(h, member, 'verify-email') } })],
      ['POST /v1/auth/password/forgot', () => h.call('POST', '/v1/auth/password/forgot', { body: { email: member } })],
      ['POST /v1/auth/password/reset', async () =>
        h.call('POST', '/v1/auth/password/reset', { body: { token: await tokenFromMailbox(h, member, 'reset-password'), newPassword: 'another long password' } })],
      ['POST /v1/users/:id/unlock', () => h.call('POST', `/v1/users/${memberId}/unlock`, { token: admin.token })],
      ['POST /v1/me/email', async () => {
        const pair = await signIn(h, { email: member, password: 'another long password' });
        memberToken = pair.accessToken;
        return h.call('POST', '/v1/me/email', { token: memberToken, body: { newEmail: moved, currentPassword: 'another long password' } });
      }],
      ['POST /v1/auth/email/confirm', async () => h.call('POST', '/v1/auth/email/confirm', { body: { token: await tokenFromMailbox(h, moved, 'confirm-email') } })],
    ];
  }
  expect([...new Set(calls.map(([route]) => route))].sort()).toEqual(Object.keys(budgets).sort());
  for (const [route, call] of calls) {
    const res = await call();
    expect(res.status, `${route}: ${res.text.slice(0, 200)}`).toBeLessThan(route === 'GET /' || route.startsWith('GET /v1/auth/oidc/:id/') ? 400 : 300);
    if (budgets[route] === 0) expect(res.statements, route).toBe(0);
    else expectWithinBudget(route, res);
    // Every statement of an authenticated route went through the caller check (src/auth/authorize.ts).
    if (!PUBLIC_ROUTES.has(route)) {
      expect(res.statements, route).toBeGreaterThan(0);
      expect(res.guarded, `${route}: statements without the caller check`).toBe(res.statements);
    }
  }
});

/** What §16 says a key never reaches (each is a 403 for a key, in one guarded statement; test/api-keys.test.ts). */
const refusedToKeys = (method: string, path: string) =>
  path.startsWith('/v1/me') || path.startsWith('/v1/auth/') || path.includes('/api-keys') || (method !== 'GET' && path.startsWith('/v1/dashboards'));

it('a personal API key runs as many statements as an access token on every route it can reach', async () => {
  const admin = await userWithToken(h, ['admin']);
  const target = await createUser(h);
  const created = await h.call('POST', '/v1/me/api-keys', { token: admin.token, body: { name: 'Budget key', permissions: PERMISSION_NAMES } });
  expect(created.status, created.text).toBe(201);
  const key: string = created.body.key;
  const reachable = Object.entries(GUARDED).filter(([route]) => !refusedToKeys(...(route.split(' ') as [string, string])));
  expect(reachable.length).toBeGreaterThan(20);
  for (const [route, { body }] of reachable) {
    const [method, template] = route.split(' ') as [string, string];
    // Reads of real things; writes aimed at a user and a role that do not exist, so both credentials run the same path.
    const write = method !== 'GET';
    const path = template.replace(':id', String(write ? 2147483647 : target.id)).replace(':role', write ? 'ghost-role' : 'viewer');
    const byToken = await h.call(method, path, { token: admin.token, body });
    const byKey = await h.call(method, path, { token: key, body });
    expect(byKey.statements, `${route}: token ${byToken.statements} statements (${byToken.status}), key ${byKey.statements} (${byKey.status})`).toBe(byToken.statements);
    expect(byKey.guarded, route).toBe(byKey.statements);
    expect(byKey.status, `${route}: ${byKey.text.slice(0, 200)}`).toBeLessThan(500);
    // The same answer, but where the token's call created what the key's then finds taken.
    if (!(method === 'POST' && (template === '/v1/users' || template === '/v1/roles'))) expect(byKey.status, route).toBe(byToken.status);
  }
});
