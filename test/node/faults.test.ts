/**
 * Faults against the running Worker: the database stops mid-run and comes back, clients abort mid-request.
 * Runs in Node because it must stop and start PostgreSQL itself.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query, startLiveStack, type LiveStack } from '../../scripts/dev/live-stack';

let stack: LiveStack;
beforeAll(async () => {
  stack = await startLiveStack();
}, 120_000);
afterAll(() => stack?.close());

const db = <T extends pg.QueryResultRow>(text: string, params: unknown[] = []) => query<T>(stack.databaseUrl, text, params);

const post = (path: string, body: unknown, init: RequestInit = {}) =>
  fetch(`${stack.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...init });

describe('the database stops and comes back', () => {
  it('answers 503 quickly while it is down, and recovers without a restart', async () => {
    const email = `fault-${Date.now()}@example.com`;
    const reg = await post('/v1/auth/register', { name: 'F', email, password: 'long enough password' });
    expect(reg.status).toBe(201);
    const { accessToken } = (await reg.json()) as { accessToken: string };

    await stack.stopDatabase();
    try {
      for (const call of [
        () => fetch(`${stack.url}/health`),
        () => fetch(`${stack.url}/v1/me`, { headers: { authorization: `Bearer ${accessToken}` } }),
        () => post('/v1/auth/login', { email, password: 'long enough password' }),
        () => post('/v1/auth/register', { name: 'G', email: `down-${email}`, password: 'long enough password' }),
      ]) {
        const started = Date.now();
        const res = await call();
        expect(res.status).toBe(503);
        expect(Date.now() - started).toBeLessThan(5_000);
        const body = (await res.json()) as Record<string, unknown>;
        if (res.headers.get('content-type')?.includes('problem+json')) {
          expect(body).toMatchObject({ status: 503, type: expect.any(String) });
          expect(JSON.stringify(body)).not.toMatch(/ECONNREFUSED|websocket|stack|select /i);
        } else {
          expect(body).toEqual({ status: 'degraded', db: 'unreachable' });
        }
      }
    } finally {
      await stack.startDatabase();
    }

    expect((await fetch(`${stack.url}/health`)).status).toBe(200);
    expect((await fetch(`${stack.url}/v1/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status).toBe(200);
    // Nothing half-written by the registration attempted while the database was down.
    expect(await db('select 1 from users where email = $1', [`down-${email}`])).toHaveLength(0);
  }, 60_000);
});

describe('clients that abort mid-request', () => {
  it('leave either the whole change or none of it', async () => {
    const emails = Array.from({ length: 20 }, (_, i) => `abort-${Date.now()}-${i}@example.com`);
    // The last one is never aborted: it must be there in full, so the check below never runs over zero rows.
    const control = emails.at(-1)!;
    await Promise.all(
      emails.map(async (email, i) => {
        const controller = new AbortController();
        if (email !== control) setTimeout(() => controller.abort(), i % 10);
        try {
          const res = await post('/v1/auth/register', { name: 'A', email, password: 'long enough password' }, { signal: controller.signal });
          if (email === control) expect(res.status).toBe(201);
        } catch (error) {
          if (email === control) throw error;
          // aborted
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 1000));
    const rows = await db<{ email: string; roles: number; sessions: number; audits: number }>(
      `select u.email,
              (select count(*)::int from users_roles where user_id = u.id) as roles,
              (select count(*)::int from sessions where user_id = u.id) as sessions,
              (select count(*)::int from audit_events where action = 'user.register' and target_id = u.id::text) as audits
       from users u where u.email = any($1)`,
      [emails],
    );
    expect(rows.map((r) => r.email)).toContain(control);
    for (const row of rows) expect(row).toMatchObject({ roles: 1, sessions: 1, audits: 1 });
  }, 60_000);
});
