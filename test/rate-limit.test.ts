import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, createUser, signIn, uniqueEmail, type Harness } from './harness';

let h: Harness;
let fallback: Harness;
beforeAll(async () => {
  h = await createHarness();
  // Without Cloudflare's binding the Worker counts in PostgreSQL; a limit of 3 per minute makes it visible.
  fallback = h.with({ AUTH_RATE_LIMITER: undefined, RATE_LIMIT_PER_MINUTE: '3' });
});
afterAll(() => h.drop());

const from = (ip: string) => ({ 'cf-connecting-ip': ip });

describe('per-IP rate limits (PostgreSQL fallback)', () => {
  it('429 with Retry-After on sign-in past the limit, per address', async () => {
    const user = await createUser(h);
    for (let i = 0; i < 3; i++) {
      const ok = await fallback.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password }, headers: from('198.51.100.1') });
      expect(ok.status).toBe(200);
    }
    const limited = await fallback.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password }, headers: from('198.51.100.1') });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toContain('application/problem+json');
    const retry = Number(limited.headers.get('retry-after'));
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(60);
    // Another address is not affected.
    const other = await fallback.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password }, headers: from('198.51.100.2') });
    expect(other.status).toBe(200);
  });

  it('limits sign-up, and a limited request changes nothing', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await fallback.call('POST', '/v1/auth/register', { body: { name: 'R', email: uniqueEmail('rl'), password: 'long enough password' }, headers: from('198.51.100.3') });
      expect(res.status).toBe(201);
    }
    const email = uniqueEmail('rl-blocked');
    const limited = await fallback.call('POST', '/v1/auth/register', { body: { name: 'R', email, password: 'long enough password' }, headers: from('198.51.100.3') });
    expect(limited.status).toBe(429);
    expect(await h.query('select 1 from users where email = $1', [email])).toHaveLength(0);
  });

  it('limits refresh', async () => {
    const user = await createUser(h);
    let { refreshToken } = await signIn(h, user);
    for (let i = 0; i < 3; i++) {
      const res = await fallback.call('POST', '/v1/auth/refresh', { body: { refreshToken }, headers: from('198.51.100.4') });
      expect(res.status).toBe(200);
      refreshToken = res.body.refreshToken;
    }
    expect((await fallback.call('POST', '/v1/auth/refresh', { body: { refreshToken }, headers: from('198.51.100.4') })).status).toBe(429);
    // The token was not consumed by the refused request.
    expect((await fallback.call('POST', '/v1/auth/refresh', { body: { refreshToken }, headers: from('198.51.100.5') })).status).toBe(200);
  });

  it('keeps one counter row per address and route', async () => {
    const rows = await h.query<{ key: string; hits: number }>(`select key, hits from rate_limits where key like 'login:198.51.100.1'`);
    expect(rows).toEqual([{ key: 'login:198.51.100.1', hits: 4 }]);
  });
});

describe('with the Rate Limiting binding', () => {
  it('counts at the edge and costs no statement', async () => {
    expect(h.env.AUTH_RATE_LIMITER).toBeDefined();
    const user = await createUser(h);
    const res = await h.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password }, headers: from('198.51.100.9') });
    expect(res.status).toBe(200);
    expect(res.statements).toBe(2);
  });
});
