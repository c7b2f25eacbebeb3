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

// As Cloudflare's edge delivers a request: `request.cf` present and the address in `cf-connecting-ip`.
const from = (ip: string) => ({ headers: { 'cf-connecting-ip': ip }, cf: {} });

describe('per-IP rate limits (PostgreSQL fallback)', () => {
  it('429 with Retry-After on sign-in past the limit, per address', async () => {
    const user = await createUser(h);
    for (let i = 0; i < 3; i++) {
      const ok = await fallback.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password }, ...from('198.51.100.1') });
      expect(ok.status).toBe(200);
    }
    const limited = await fallback.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password }, ...from('198.51.100.1') });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toContain('application/problem+json');
    const retry = Number(limited.headers.get('retry-after'));
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(60);
    // Another address is not affected.
    const other = await fallback.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password }, ...from('198.51.100.2') });
    expect(other.status).toBe(200);
  });

  it('limits sign-up, and a limited request changes nothing', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await fallback.call('POST', '/v1/auth/register', { body: { name: 'R', email: uniqueEmail('rl'), password: 'long enough password' }, ...from('198.51.100.3') });
      expect(res.status).toBe(201);
    }
    const email = uniqueEmail('rl-blocked');
    const limited = await fallback.call('POST', '/v1/auth/register', { body: { name: 'R', email, password: 'long enough password' }, ...from('198.51.100.3') });
    expect(limited.status).toBe(429);
    expect(await h.query('select 1 from users where email = $1', [email])).toHaveLength(0);
  });

  it('limits refresh', async () => {
    const user = await createUser(h);
    let { refreshToken } = await signIn(h, user);
    for (let i = 0; i < 3; i++) {
      const res = await fallback.call('POST', '/v1/auth/refresh', { body: { refreshToken }, ...from('198.51.100.4') });
      expect(res.status).toBe(200);
      refreshToken = res.body.refreshToken;
    }
    expect((await fallback.call('POST', '/v1/auth/refresh', { body: { refreshToken }, ...from('198.51.100.4') })).status).toBe(429);
    // The token was not consumed by the refused request.
    expect((await fallback.call('POST', '/v1/auth/refresh', { body: { refreshToken }, ...from('198.51.100.5') })).status).toBe(200);
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
    const res = await h.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password }, ...from('198.51.100.9') });
    expect(res.status).toBe(200);
    expect(res.statements).toBe(2);
  });

  // A binding that refuses (limit 1 per key and minute, vitest.config.ts) stands where wrangler.toml's 600 would.
  // The fallback's limit is set far away, so only the binding can be what refuses.
  it.each([
    ['sign-in', 'login'],
    ['sign-up', 'register'],
  ])('its refusal on %s is a 429 before any statement, and the PostgreSQL counter is never consulted', async (_, route) => {
    const edge = h.with({ AUTH_RATE_LIMITER: h.env.TEST_REFUSING_LIMITER, RATE_LIMIT_PER_MINUTE: '1000' });
    // The binding counts in fixed one-minute windows: start both requests well inside one.
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 10_000) await new Promise((r) => setTimeout(r, left + 500));
    const ip = `198.51.${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 254) + 1}`;
    const user = await createUser(h);
    const body = route === 'login' ? { email: user.email, password: user.password } : { name: 'R', email: uniqueEmail('edge'), password: 'long enough password' };
    const first = await edge.call('POST', `/v1/auth/${route}`, { body, ...from(ip) });
    expect(first.status).toBe(route === 'login' ? 200 : 201);
    const again = route === 'login' ? body : { ...body, email: uniqueEmail('edge-refused') };
    const refused = await edge.call('POST', `/v1/auth/${route}`, { body: again, ...from(ip) });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.headers.get('retry-after')).toBe('60');
    expect(refused.statements).toBe(0);
    // Nothing was done for the refused request, and no window was counted in PostgreSQL for either.
    if (route === 'login') expect(await h.query('select 1 from sessions where user_id = $1', [user.id])).toHaveLength(1);
    else expect(await h.query('select 1 from users where email = $1', [again.email])).toHaveLength(0);
    expect(await h.query('select key from rate_limits where key like $1', [`%${ip}`])).toEqual([]);
    // The binding counts per address: another one is let through.
    const otherBody = route === 'login' ? body : { ...body, email: uniqueEmail('edge-other') };
    expect((await edge.call('POST', `/v1/auth/${route}`, { body: otherBody, ...from(`${ip.replace(/\.\d+$/, '')}.255`) })).status).toBe(route === 'login' ? 200 : 201);
  });
});

describe('the client address', () => {
  const login = (hh: Harness, user: { email: string; password: string }, extra: Record<string, unknown>) =>
    hh.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password }, ...extra });

  it('a cf-connecting-ip the client set (no request.cf) neither resets per-IP limits nor lands in sessions or audit rows', async () => {
    const isolated = await createHarness({ AUTH_RATE_LIMITER: undefined, RATE_LIMIT_PER_MINUTE: '3' });
    try {
      const made = await createUser(isolated);
      for (let i = 0; i < 3; i++) {
        const res = await login(isolated, made, { headers: { 'cf-connecting-ip': `203.0.113.${i + 1}` } });
        expect(res.status).toBe(200);
      }
      // A fourth forged address is still the same (unknown) caller: limited.
      expect((await login(isolated, made, { headers: { 'cf-connecting-ip': '203.0.113.99' } })).status).toBe(429);
      const ips = await isolated.query<{ ip: string | null }>('select ip from sessions union all select ip from audit_events');
      expect(ips.length).toBeGreaterThan(0);
      expect(ips.every((r) => r.ip === null)).toBe(true);
      expect(await isolated.query(`select key from rate_limits`)).toEqual([{ key: 'login:unknown' }]);
    } finally {
      await isolated.drop();
    }
  });

  it('through Cloudflare (request.cf present) the edge-set address is recorded', async () => {
    const user = await createUser(h);
    const res = await login(h, user, { ...from('2001:DB8:0:0:0:0:0:7') });
    expect(res.status).toBe(200);
    const [session] = await h.query<{ ip: string }>('select ip from sessions where user_id = $1', [user.id]);
    expect(session!.ip).toBe('2001:db8::7');
  });

  it('IPv6 callers are limited per /64, so walking through one allocation does not reset the count', async () => {
    const user = await createUser(h);
    for (let i = 1; i <= 3; i++) expect((await login(fallback, user, from(`2001:db8:1:2::${i}`))).status).toBe(200);
    expect((await login(fallback, user, from('2001:db8:1:2:ffff::9'))).status).toBe(429);
    expect((await login(fallback, user, from('2001:db8:1:3::1'))).status).toBe(200);
  });

  it.each([
    ['oversized', '1'.repeat(10_000)],
    ['a list', '198.51.100.1, 10.0.0.1'],
    ['not an address', "'; drop table users; --"],
    ['an out-of-range octet', '256.1.1.1'],
    ['a leading zero', '010.1.1.1'],
    ['an IPv6 with a zone', 'fe80::1%eth0'],
  ])('%s in the trusted header is no address, and never a 500', async (_, value) => {
    const user = await createUser(h);
    const res = await login(fallback, user, { headers: { 'cf-connecting-ip': value }, cf: {} });
    expect([200, 429]).toContain(res.status);
    const rows = await h.query<{ ip: string | null }>('select ip from sessions where user_id = $1', [user.id]);
    // Not a check over zero rows: a sign-in let through made exactly one session, and it holds no address; one
    // refused by the shared no-address counter made none.
    if (res.status === 200) expect(rows).toEqual([{ ip: null }]);
    else expect(rows).toEqual([]);
  });

  it('an IPv4 address written IPv6-style is the same client', async () => {
    const user = await createUser(h);
    expect((await login(h, user, from('::ffff:192.0.2.129'))).status).toBe(200);
    const [session] = await h.query<{ ip: string }>('select ip from sessions where user_id = $1', [user.id]);
    expect(session!.ip).toBe('192.0.2.129');
  });

  it('an empty TRUSTED_IP_HEADER trusts no header, even with request.cf (npm run dev)', async () => {
    const dev = h.with({ TRUSTED_IP_HEADER: '' });
    const user = await createUser(h);
    expect((await login(dev, user, from('198.51.100.77'))).status).toBe(200);
    const [session] = await h.query<{ ip: string | null }>('select ip from sessions where user_id = $1', [user.id]);
    expect(session!.ip).toBeNull();
  });

  it('another configured header (a trusted proxy in front) is read without request.cf', async () => {
    const proxied = h.with({ TRUSTED_IP_HEADER: 'x-real-ip' });
    const user = await createUser(h);
    expect((await login(proxied, user, { headers: { 'x-real-ip': '192.0.2.44', 'cf-connecting-ip': '192.0.2.45' } })).status).toBe(200);
    const [session] = await h.query<{ ip: string | null }>('select ip from sessions where user_id = $1', [user.id]);
    expect(session!.ip).toBe('192.0.2.44');
  });
});
