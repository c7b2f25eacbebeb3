import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import journal from '../drizzle/meta/_journal.json';
import { createHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.drop());

function expectProblem(res: { status: number; headers: Headers; body: any }, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.body).toMatchObject({ status, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
}

describe('GET /health', () => {
  it('answers ok when the database answers', async () => {
    const res = await h.call('GET', '/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', db: 'ok' });
    expect(res.statements).toBe(1);
  });

  it('answers 503 when nothing listens on the database port', async () => {
    const dead = h.with({ DATABASE_URL: 'postgres://postgres:x@127.0.0.1:1/none', DB_CONNECT_TIMEOUT_MS: '2000' });
    const res = await dead.call('GET', '/health');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ status: 'degraded', db: 'unreachable' });
  });

  it('answers 503 when the proxy in front of the database is down', async () => {
    const dead = h.with({ DB_PROXY: '127.0.0.1:1', DB_CONNECT_TIMEOUT_MS: '2000' });
    const res = await dead.call('GET', '/health');
    expect(res.status).toBe(503);
  });
});

describe('request id', () => {
  it('is generated when the client sends none', async () => {
    const res = await h.call('GET', '/health');
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('is echoed when sane', async () => {
    const res = await h.call('GET', '/health', { headers: { 'X-Request-Id': 'client-abc_123=' } });
    expect(res.headers.get('x-request-id')).toBe('client-abc_123=');
  });

  it.each([['has spaces and <tags>'], ['x'.repeat(300)], ['semi;colon']])('is replaced when not sane: %s', async (sent) => {
    const res = await h.call('GET', '/health', { headers: { 'X-Request-Id': sent } });
    expect(res.headers.get('x-request-id')).not.toBe(sent);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('is on error responses too', async () => {
    const res = await h.call('GET', '/nope', { headers: { 'X-Request-Id': 'trace-1' } });
    expect(res.headers.get('x-request-id')).toBe('trace-1');
  });
});

describe('errors are problem+json', () => {
  it('404 for a route that does not exist', async () => {
    const res = await h.call('GET', '/v1/does-not-exist');
    expectProblem(res, 404);
  });

  it('405 with Allow for a known path under another method', async () => {
    const res = await h.call('DELETE', '/health');
    expectProblem(res, 405);
    expect(res.headers.get('allow')).toContain('GET');
  });

  it('400 for a query string that does not percent-decode', async () => {
    const res = await h.call('GET', '/health?x=%E0%A4%A');
    expectProblem(res, 400);
  });

  it('413 for a body over 64 KiB, before anything reads it', async () => {
    const res = await h.call('POST', '/health', { raw: 'x'.repeat(64 * 1024 + 1), headers: { 'content-type': 'application/json' } });
    expectProblem(res, 413);
  });

  it('431 for oversized request headers', async () => {
    const res = await h.call('GET', '/health', { headers: { 'x-padding': 'x'.repeat(20_000) } });
    expectProblem(res, 431);
  });

  it('500 with no internals when the configuration is wrong, naming nothing secret', async () => {
    const broken = h.with({ JWT_PRIVATE_KEY: '{not json' });
    const res = await broken.call('GET', '/health');
    expectProblem(res, 500);
    expect(res.text).not.toMatch(/JWT_PRIVATE_KEY|stack|at \w+ \(/);
    expect(res.body.detail).toContain(res.headers.get('x-request-id'));
  });
});

describe('security headers and CORS', () => {
  it('sets the secure headers and no-store', async () => {
    const res = await h.call('GET', '/health');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('allows a configured origin', async () => {
    const res = await h.call('OPTIONS', '/health', {
      headers: { Origin: 'https://dashboard.example.com', 'Access-Control-Request-Method': 'GET' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBe('https://dashboard.example.com');
  });

  it('does not allow another origin', async () => {
    const res = await h.call('GET', '/health', { headers: { Origin: 'https://evil.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('schema', () => {
  it('applied every migration exactly once, though migrate ran twice', async () => {
    const rows = await h.query<{ n: string }>('select count(*) as n from drizzle.__drizzle_migrations');
    expect(Number(rows[0]!.n)).toBe(journal.entries.length);
  });

  it('has the built-in roles', async () => {
    const rows = await h.query<{ name: string }>('select name from roles order by name');
    expect(rows.map((r) => r.name)).toEqual(['admin', 'analyst', 'viewer']);
  });

  it('refuses an email that is not lower-case', async () => {
    await expect(
      h.query(`insert into users (name, email, hashed_password) values ('A', 'Ada@Example.com', 'x')`),
    ).rejects.toMatchObject({ code: '23514' });
  });

  it('refuses a duplicate email', async () => {
    await h.query(`insert into users (name, email, hashed_password) values ('A', 'dup@example.com', 'x')`);
    await expect(
      h.query(`insert into users (name, email, hashed_password) values ('B', 'dup@example.com', 'x')`),
    ).rejects.toMatchObject({ code: '23505' });
  });
});
