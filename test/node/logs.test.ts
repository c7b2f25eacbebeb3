/**
 * Runs a full sign-in story against the running Worker, then scans everything it logged: one JSON line per request,
 * and never a password, hash, token or full email.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startLiveStack, type LiveStack } from '../../scripts/dev/live-stack';

let stack: LiveStack;
beforeAll(async () => {
  stack = await startLiveStack();
}, 120_000);
afterAll(() => stack?.close());

const call = async (method: string, path: string, body?: unknown, token?: string) => {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
};

it('logs one structured line per request and no secret', async () => {
  const email = `Secret.Person.${Date.now()}@example.com`;
  const password = 'first secret passphrase';
  const newPassword = 'second secret passphrase';
  const secrets: string[] = [email, email.toLowerCase(), password, newPassword];

  const reg = await call('POST', '/v1/auth/register', { name: 'Secret Person', email, password });
  expect(reg.status).toBe(201);
  secrets.push(reg.body.accessToken, reg.body.refreshToken);
  const bad = await call('POST', '/v1/auth/login', { email, password: 'wrong guess of a password' });
  expect(bad.status).toBe(401);
  const login = await call('POST', '/v1/auth/login', { email, password });
  secrets.push(login.body.accessToken, login.body.refreshToken);
  const refreshed = await call('POST', '/v1/auth/refresh', { refreshToken: login.body.refreshToken });
  secrets.push(refreshed.body.accessToken, refreshed.body.refreshToken);
  // Reuse of the rotated token revokes that login, the refreshed access token with it (decided at request time).
  expect((await call('POST', '/v1/auth/refresh', { refreshToken: login.body.refreshToken })).status).toBe(401);
  expect((await call('GET', '/v1/me', undefined, refreshed.body.accessToken)).status).toBe(401);
  const again = await call('POST', '/v1/auth/login', { email, password });
  secrets.push(again.body.accessToken, again.body.refreshToken);
  expect((await call('GET', '/v1/me', undefined, again.body.accessToken)).status).toBe(200);
  expect((await call('POST', '/v1/me/password', { currentPassword: password, newPassword }, again.body.accessToken)).status).toBe(204);
  expect((await call('POST', '/v1/auth/register', { name: 'x', email, password: 'short' })).status).toBe(422);
  expect((await call('POST', '/v1/auth/logout', { refreshToken: again.body.refreshToken })).status).toBe(204);

  const client = new pg.Client({ connectionString: stack.databaseUrl });
  await client.connect();
  const { rows } = await client.query<{ hashed_password: string }>('select hashed_password from users where email = $1', [email.toLowerCase()]);
  await client.end();
  secrets.push(rows[0]!.hashed_password, rows[0]!.hashed_password.split('$')[4]!);

  await new Promise((r) => setTimeout(r, 500));
  const output = stack.output();
  for (const secret of secrets) expect(output.includes(secret), `log contains a secret: ${secret.slice(0, 12)}…`).toBe(false);

  const lines = output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === 'request');
  expect(lines.length).toBeGreaterThanOrEqual(10);
  for (const line of lines) {
    expect(line).toMatchObject({ level: 'info', method: expect.any(String), route: expect.any(String), status: expect.any(Number), ms: expect.any(Number), requestId: expect.any(String) });
    expect(line).toHaveProperty('userId');
  }
  const me = lines.find((l) => l.route === '/v1/me' && l.method === 'GET');
  expect(me?.userId).toBe(reg.body.user.id);
}, 60_000);
