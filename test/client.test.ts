/**
 * The typed client: `hc<AppType>` gives a TypeScript caller the routes, inputs and outputs of the app. Here it runs
 * against the real Worker (its `fetch`, with this file's database), so the types and the wire agree.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { hc } from 'hono/client';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import worker, { type AppType } from '../src/index';
import type { Bindings } from '../src/env';
import { client as keyClient, dailyUniques, overview } from '../docs/examples/figures-with-a-key';
import { createHarness, uniqueEmail, userWithToken, type Harness } from './harness';

let h: Harness;
let client: ReturnType<typeof hc<AppType>>;
let fetchWorker: typeof fetch;

beforeAll(async () => {
  h = await createHarness();
  const admin = await userWithToken(h, ['admin']);
  // The client's fetch hands each request to the Worker, as the runtime would.
  fetchWorker = async (input: RequestInfo | URL, init?: RequestInit) => {
    const ctx = createExecutionContext();
    const response = await worker.fetch(new Request(input, init), h.env as Bindings, ctx);
    await waitOnExecutionContext(ctx);
    return response;
  };
  client = hc<AppType>('http://api.test', { fetch: fetchWorker, headers: { authorization: `Bearer ${admin.token}` } });
});
afterAll(() => h.drop());

describe('hono/client against the Worker', () => {
  it('creates, reads, lists and updates users with typed inputs and outputs', async () => {
    const email = uniqueEmail('typed');
    const created = await client.v1.users.$post({ json: { name: 'Typed Client', email, password: 'correct horse battery', roles: ['analyst'] } });
    expect(created.status).toBe(201);
    if (created.status !== 201) throw new Error('not created');
    const user = await created.json();
    expectTypeOf(user.id).toEqualTypeOf<number>();
    expectTypeOf(user.roles).toEqualTypeOf<string[]>();
    expectTypeOf(user.lastLoginAt).toEqualTypeOf<string | null>();
    expect(user).toMatchObject({ email, roles: ['analyst'], disabled: false });

    const read = await client.v1.users[':id'].$get({ param: { id: String(user.id) } });
    expect(read.status).toBe(200);
    if (read.ok) expect((await read.json()).email).toBe(email);

    const page = await client.v1.users.$get({ query: { q: 'typed client', sort: 'name', limit: '10' } });
    if (!page.ok) throw new Error(`list failed: ${page.status}`);
    const body = await page.json();
    expectTypeOf(body.nextCursor).toEqualTypeOf<string | null>();
    expect(body.data.map((u) => u.id)).toEqual([user.id]);

    const patched = await client.v1.users[':id'].$patch({ param: { id: String(user.id) }, json: { disabled: true } });
    if (patched.status !== 200) throw new Error(`patch failed: ${patched.status}`);
    expect((await patched.json()).disabled).toBe(true);
  });

  it('reads roles and answers errors as problem+json', async () => {
    const roles = await client.v1.roles.$get();
    if (!roles.ok) throw new Error(`roles failed: ${roles.status}`);
    const { data } = await roles.json();
    expectTypeOf(data[0]!.userCount).toEqualTypeOf<number>();
    expect(data.map((r) => r.name)).toEqual(expect.arrayContaining(['admin', 'analyst', 'viewer']));

    const missing = await client.v1.roles[':role'].$get({ param: { role: 'ghost-role' } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
  });

  it('builds typed URLs', () => {
    const url = client.v1.roles[':role'].users.$url({ param: { role: 'analyst' }, query: { limit: '5' } });
    expect(url.pathname).toBe('/v1/roles/analyst/users');
    expect(url.searchParams.get('limit')).toBe('5');
  });
});

describe('the script of docs/api-keys.md (docs/examples/figures-with-a-key.ts)', () => {
  it('reads figures and events with a key, and says the API’s refusal in its own words', async () => {
    const made = await client.v1.me['api-keys'].$post({ json: { name: 'Docs example', permissions: ['stats:read', 'events:read'] } });
    expect(made.status).toBe(201);
    if (made.status !== 201) throw new Error('no key');
    const { key } = await made.json();
    const api = keyClient('http://api.test', key, fetchWorker);
    const figures = await overview(api, 7);
    expectTypeOf(figures.users.total).toEqualTypeOf<number>();
    expect(figures.users.total).toBeGreaterThan(0);
    const trend = await dailyUniques(api, 'page.viewed');
    // No events yet: one series, every day of the range zero-filled (§14).
    expect(trend.data).toHaveLength(1);
    expect(trend.data[0]).toMatchObject({ series: 0, breakdown: null, total: 0 });
    const row = trend.data[0]!;
    expect('points' in row && row.points.length).toBeGreaterThanOrEqual(14);

    const narrow = await client.v1.me['api-keys'].$post({ json: { name: 'Figures only', permissions: ['stats:read'] } });
    if (narrow.status !== 201) throw new Error('no key');
    const refused = keyClient('http://api.test', (await narrow.json()).key, fetchWorker);
    await expect(dailyUniques(refused, 'page.viewed')).rejects.toThrow(/HTTP 403: .*events:read/);
  });
});
