/**
 * Under `wrangler dev` (what `npm run dev` runs) a client can set CF-Connecting-IP and wrangler simulates
 * `request.cf`, so neither proves anything: with the settings `npm run dev` writes, a forged header lands nowhere.
 * (With TRUSTED_IP_HEADER=cf-connecting-ip the same header is believed under wrangler dev — checked by hand on
 * 2026-12-01 — which is why `npm run dev` sets it empty; the logic itself is covered in test/rate-limit.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_OVERRIDES } from '../../scripts/dev/plan';
import { query, startLiveStack, type LiveStack } from '../../scripts/dev/live-stack';

let stack: LiveStack;
beforeAll(async () => {
  stack = await startLiveStack({ ...LOCAL_OVERRIDES });
}, 120_000);
afterAll(() => stack?.close());

async function register(base: string, forged: string) {
  const email = `ip-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com`;
  const res = await fetch(`${base}/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'cf-connecting-ip': forged },
    body: JSON.stringify({ name: 'Ip', email, password: 'long enough password' }),
  });
  expect(res.status).toBe(201);
  const [row] = await query<{ ip: string | null }>(stack.databaseUrl, `select s.ip from sessions s join users u on u.id = s.user_id where u.email = $1`, [email]);
  const [audit] = await query<{ ip: string | null }>(stack.databaseUrl, `select a.ip from audit_events a join users u on a.target_id = u.id::text where u.email = $1 and a.action = 'user.register'`, [email]);
  return { session: row!.ip, audit: audit!.ip };
}

describe('client addresses under wrangler dev', () => {
  it('with npm run dev’s settings a forged CF-Connecting-IP is recorded nowhere', async () => {
    expect(await register(stack.url, '198.51.100.23')).toEqual({ session: null, audit: null });
  });

  it('an oversized header is never a 500', async () => {
    const res = await fetch(`${stack.url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'cf-connecting-ip': '9'.repeat(8000) },
      body: JSON.stringify({ email: 'nobody@example.com', password: 'long enough password' }),
    });
    expect(res.status).toBe(401);
  });
});
