/**
 * Contract §13, POST /v1/ingest, from outside the Worker. In the `workers` project the route runs the direct path (no
 * queue bound: it writes the batch itself); in the `ingest-queue` project (TEST_INGEST_PATH=queue) the same tests run
 * through the real local Cloudflare Queue and the Worker's own consumer, against the database the consumer writes to,
 * and wait for the events to land (freshness) before checking them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from './expect';
import { baseEnv, createHarness, query, userWithToken, type CallOptions, type Harness } from './harness';

const QUEUE = (baseEnv as { TEST_INGEST_PATH?: string }).TEST_INGEST_PATH === 'queue';
let h: Harness;
let admin: { token: string };

beforeAll(async () => {
  if (QUEUE) {
    // The consumer writes to the project's DATABASE_URL: make it a migrated database once, and use it here.
    const name = new URL(baseEnv.DATABASE_URL!).pathname.slice(1);
    const exists = await query(baseEnv.TEST_PG_URL, `select 1 from pg_database where datname = $1`, [name]);
    if (exists.length === 0) await query(baseEnv.TEST_PG_URL, `create database ${name} template dashboard_template`);
    h = (await createHarness()).with({ DATABASE_URL: baseEnv.DATABASE_URL });
  } else {
    h = (await createHarness()).with({ INGEST_QUEUE: undefined });
  }
  admin = await userWithToken(h, ['admin']);
});
afterAll(() => h.drop());

async function source(name = 'site') {
  const res = await h.call('POST', '/v1/sources', { token: admin.token, body: { name } });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: number; writeKey: string };
}

const ingest = (body: unknown, options: CallOptions = {}) => h.call('POST', '/v1/ingest', { body, ...options });

/** Stored events of a source, by name then id (a batch's rows are not inserted in its order). */
const stored = (id: number) =>
  h.query<{ event: string; distinct_id: string; message_id: string | null; properties: unknown; country: string | null; timestamp: string; received_at: string }>(
    `select event, distinct_id, message_id, properties, country, to_char("timestamp" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "timestamp",
       to_char(received_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as received_at from events where source_id = $1 order by event, id`,
    [id],
  );

/** Waits until the source holds `n` events (at once on the direct path; within the freshness bound on the queue's). */
async function landed(id: number, n: number) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const rows = await stored(id);
    if (rows.length >= n || Date.now() > deadline) return rows;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** On the queue path, a little longer than a delivery, so that what should not land has had its chance. */
const quiet = () => new Promise((r) => setTimeout(r, QUEUE ? 2500 : 0));

describe('POST /v1/ingest', () => {
  it('202 with the key in the header: stored with source, receivedAt, distinctId, properties; nothing else of the request', async () => {
    const s = await source();
    const at = new Date(Date.now() - 60_000).toISOString();
    const res = await ingest(
      { events: [{ event: 'report.viewed', userId: 'u1', anonymousId: 'a1', timestamp: at, properties: { plan: 'pro', n: 3, nested: { tier: 2 } } }, { event: 'page.viewed', anonymousId: 'a2' }] },
      { headers: { authorization: `Bearer ${s.writeKey}`, 'cf-connecting-ip': '203.0.113.9' } },
    );
    expect(res.status, res.text).toBe(202);
    expect(res.body).toEqual({ accepted: 2, rejected: [] });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.statements).toBe(1);
    const rows = await landed(s.id, 2);
    expect(rows.map((r) => [r.event, r.distinct_id, r.properties, r.country])).toEqual([
      ['page.viewed', 'a2', {}, null],
      ['report.viewed', 'u1', { plan: 'pro', n: 3, nested: { tier: 2 } }, null],
    ]);
    expect(rows[1]!.timestamp).toBe(at);
    // Without a timestamp, the event's time is when it was received.
    expect(rows[0]!.timestamp).toBe(rows[0]!.received_at);
    const text = JSON.stringify(await h.query(`select * from events where source_id = $1`, [s.id]));
    expect(text).not.toContain('203.0.113.9');
    const [src] = await h.query<{ last_event_at: Date | null }>(`select last_event_at from sources where id = $1`, [s.id]);
    expect(src!.last_event_at).not.toBeNull();
  });

  it('the key in the body, sent as text/plain the way navigator.sendBeacon sends it', async () => {
    const s = await source();
    const res = await ingest(undefined, {
      raw: JSON.stringify({ writeKey: s.writeKey, events: [{ event: 'beacon', anonymousId: 'b' }] }),
      headers: { 'content-type': 'text/plain;charset=UTF-8', origin: 'https://shop.example.org' },
    });
    expect(res.status, res.text).toBe(202);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect((await landed(s.id, 1)).map((r) => r.event)).toEqual(['beacon']);
  });

  it('country from request.cf (Cloudflare\u2019s edge); none for XX', async () => {
    const s = await source();
    await ingest({ writeKey: s.writeKey, events: [{ event: 'a', userId: 'u' }] }, { cf: { country: 'FR' } });
    await ingest({ writeKey: s.writeKey, events: [{ event: 'b', userId: 'u' }] }, { cf: { country: 'XX' } });
    expect((await landed(s.id, 2)).map((r) => r.country).sort()).toEqual(['FR', null]);
  });

  it('a preflight from any origin: 204 naming Authorization and Content-Type', async () => {
    const res = await h.call('OPTIONS', '/v1/ingest', {
      headers: { origin: 'https://anywhere.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    expect(res.headers.get('access-control-allow-headers')).toMatch(/Content-Type/);
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('401 for a missing, malformed, unknown key, or two different keys; every error carries CORS', async () => {
    const s = await source();
    const other = await source('other');
    const events = [{ event: 'x', userId: 'u' }];
    const answers = [
      await ingest({ events }),
      await ingest({ events, writeKey: 'nope' }),
      await ingest({ events, writeKey: `da_wk_${'A'.repeat(43)}` }),
      await ingest({ events, writeKey: 42 }),
      await ingest({ events, writeKey: s.writeKey }, { headers: { authorization: `Bearer ${other.writeKey}` } }),
      await ingest({ events }, { headers: { authorization: `Basic ${btoa('a:b')}` } }),
    ];
    for (const res of answers) {
      expectProblem(res, 401);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
    }
    // The same key twice is fine.
    expect((await ingest({ events, writeKey: s.writeKey }, { headers: { authorization: `Bearer ${s.writeKey}` } })).status).toBe(202);
    await quiet();
    expect(await stored(other.id)).toEqual([]);
  });

  it('400 for a body that is not JSON; 415 for another type; 413 over 512 KiB; 422 for events missing, empty or over 500', async () => {
    const s = await source();
    const bad = await ingest(undefined, { raw: '{"events": [', headers: { 'content-type': 'text/plain' } });
    expectProblem(bad, 400);
    expect(bad.headers.get('access-control-allow-origin')).toBe('*');
    expectProblem(await ingest(undefined, { raw: '{}', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415);
    const big = { writeKey: s.writeKey, events: [{ event: 'big', userId: 'u', properties: { pad: 'x'.repeat(520 * 1024) } }] };
    const tooLarge = await ingest(big);
    expectProblem(tooLarge, 413);
    expect(tooLarge.headers.get('access-control-allow-origin')).toBe('*');
    for (const events of [undefined, [], Array(501).fill({ event: 'e', userId: 'u' }), 'x']) {
      const res = await ingest({ writeKey: s.writeKey, events });
      expectProblem(res, 422);
      expect(res.body.errors).toEqual([{ path: 'events', message: expect.any(String) }]);
    }
    // 500 events and a body of nearly 512 KiB are fine.
    const many = Array.from({ length: 500 }, (_, i) => ({ event: 'bulk', userId: `u${i}`, properties: { pad: 'y'.repeat(900) } }));
    const res = await ingest({ writeKey: s.writeKey, events: many });
    expect(res.status, res.text.slice(0, 300)).toBe(202);
    expect(res.body.accepted).toBe(500);
    expect((await landed(s.id, 500)).length).toBe(500);
  });

  it('per-event validation: each invalid event listed by index with exact paths and dropped, the rest taken', async () => {
    const s = await source();
    const now = Date.now();
    const events = [
      { event: 'ok', userId: 'u' },
      { userId: 'u' },
      { event: '', userId: 'u' },
      { event: 'x'.repeat(201), userId: 'u' },
      { event: '😀'.repeat(200), userId: 'u' },
      { event: 'tab\there', userId: 'u' },
      { event: 'c1\u0085', userId: 'u' },
      { event: 'no-id' },
      { event: 'e', userId: '' },
      { event: 'e', anonymousId: 'y'.repeat(201) },
      { event: 'e', userId: 'u', timestamp: new Date(now + 2 * 3600_000).toISOString() },
      { event: 'e', userId: 'u', timestamp: new Date(now - 367 * 86400_000).toISOString() },
      { event: 'e', userId: 'u', timestamp: '2026-01-31T12:00:00' },
      { event: 'e', userId: 'u', properties: [1] },
      { event: 'e', userId: 'u', properties: { pad: 'p'.repeat(16 * 1024) } },
      { event: 'e', userId: 'u', properties: { '': 1 } },
      { event: 'e', userId: 'u', messageId: '' },
      { event: 'e', userId: 'u', extra: true },
      'not an object',
      { event: 'e', userId: 'u', properties: { s: 'nul\u0000' } },
      { event: 'ok2', userId: 'u', timestamp: new Date(now + 1800_000).toISOString().replace('Z', '+00:00') },
    ];
    const res = await ingest({ writeKey: s.writeKey, events });
    expect(res.status, res.text).toBe(202);
    expect(res.body.accepted).toBe(3);
    const paths = Object.fromEntries(res.body.rejected.map((r: { index: number; errors: { path: string }[] }) => [r.index, r.errors.map((e) => e.path)]));
    expect(paths).toEqual({
      1: ['event'],
      2: ['event'],
      3: ['event'],
      5: ['event'],
      6: ['event'],
      7: ['userId'],
      8: ['userId'],
      9: ['anonymousId'],
      10: ['timestamp'],
      11: ['timestamp'],
      12: ['timestamp'],
      13: ['properties'],
      14: ['properties'],
      15: ['properties.'],
      16: ['messageId'],
      17: ['extra'],
      18: [''],
      19: ['properties'],
    });
    expect((await landed(s.id, 3)).map((r) => r.event).sort()).toEqual(['ok', 'ok2', '😀'.repeat(200)].sort());
  });

  it('properties of exactly 16 KiB (UTF-8 bytes, compact) are taken; one byte more is not', async () => {
    const s = await source();
    const fill = (bytes: number) => ({ p: 'é'.repeat(Math.floor((bytes - 8) / 2)) + 'a'.repeat((bytes - 8) % 2) });
    expect(new TextEncoder().encode(JSON.stringify(fill(16384))).byteLength).toBe(16384);
    const res = await ingest({ writeKey: s.writeKey, events: [{ event: 'e', userId: 'u', properties: fill(16384) }, { event: 'e', userId: 'u', properties: fill(16385) }] });
    expect(res.body.accepted).toBe(1);
    expect(res.body.rejected.map((r: { index: number }) => r.index)).toEqual([1]);
  });

  it('exactly once: one messageId sent many times, concurrently and in one batch, is stored once; events without one count each time', async () => {
    const s = await source();
    const e = { event: 'purchase', userId: 'u', messageId: 'm-1' };
    const answers = await Promise.all(Array.from({ length: 8 }, () => ingest({ writeKey: s.writeKey, events: [e, e, { event: 'free', userId: 'u' }] })));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(202));
    const rows = await landed(s.id, 9);
    await quiet();
    const final = await stored(s.id);
    expect(final.filter((r) => r.message_id === 'm-1')).toHaveLength(1);
    expect(final.filter((r) => r.event === 'free')).toHaveLength(8);
    expect(rows.length).toBeGreaterThanOrEqual(9);
    // The same messageId on another source is another event.
    const other = await source('other');
    await ingest({ writeKey: other.writeKey, events: [e] });
    expect(await landed(other.id, 1)).toHaveLength(1);
  });

  it('rotation: the previous key works during its grace; with grace 0 it stops at once', async () => {
    const s = await source();
    const events = [{ event: 'e', userId: 'u' }];
    const rotated = (await h.call('POST', `/v1/sources/${s.id}/rotate`, { token: admin.token, body: { graceSeconds: 3600 } })).body;
    expect((await ingest({ writeKey: s.writeKey, events })).status).toBe(202);
    expect((await ingest({ writeKey: rotated.writeKey, events })).status).toBe(202);
    const again = (await h.call('POST', `/v1/sources/${s.id}/rotate`, { token: admin.token, body: { graceSeconds: 0 } })).body;
    expectProblem(await ingest({ writeKey: s.writeKey, events }), 401);
    expectProblem(await ingest({ writeKey: rotated.writeKey, events }), 401);
    expect((await ingest({ writeKey: again.writeKey, events })).status).toBe(202);
    // A grace that has run out.
    await h.query(`update source_keys set expires_at = now() - interval '1 second' where source_id = $1 and expires_at is not null`, [s.id]);
    expect((await landed(s.id, 3)).length).toBe(3);
  });

  it('deletion: the key stops at once and the source\u2019s events are hidden from live-source reads at once', async () => {
    const s = await source();
    await ingest({ writeKey: s.writeKey, events: [{ event: 'e', userId: 'u' }] });
    await landed(s.id, 1);
    expect((await h.call('DELETE', `/v1/sources/${s.id}`, { token: admin.token })).status).toBe(204);
    expectProblem(await ingest({ writeKey: s.writeKey, events: [{ event: 'e', userId: 'u' }] }), 401);
    const visible = await h.query(`select e.id from events e join sources s on s.id = e.source_id and s.deleted_at is null where e.source_id = $1`, [s.id]);
    expect(visible).toEqual([]);
  });

  it('the per-source limit: a batch that would go over is refused whole (429, Retry-After), uncounted; other sources unaffected', async () => {
    const limited = h.with({ INGEST_EVENTS_PER_MINUTE: '10' });
    const s = await source();
    const other = await source('other');
    const batch = (n: number, key = s.writeKey) => limited.call('POST', '/v1/ingest', { body: { writeKey: key, events: Array.from({ length: n }, (_, i) => ({ event: 'e', userId: `u${i}` })) } });
    // A run that straddles a minute boundary would start a new window: start early in a minute.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 50_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
    expect((await batch(6)).status).toBe(202);
    const refused = await batch(5);
    expectProblem(refused, 429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(refused.headers.get('access-control-allow-origin')).toBe('*');
    expect((await batch(4)).status).toBe(202);
    expectProblem(await batch(1), 429);
    expect((await batch(10, other.writeKey)).status).toBe(202);
    await quiet();
    expect((await landed(s.id, 10)).length).toBe(10);
  });

  it('concurrent batches under the limit never take more than it', async () => {
    const limited = h.with({ INGEST_EVENTS_PER_MINUTE: '50' });
    const s = await source();
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 50_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, j) =>
        limited.call('POST', '/v1/ingest', { body: { writeKey: s.writeKey, events: Array.from({ length: 10 }, (_, i) => ({ event: 'e', userId: `u${j}-${i}` })) } }),
      ),
    );
    expect(answers.filter((a) => a.status === 202)).toHaveLength(5);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(7);
    await quiet();
    expect((await landed(s.id, 50)).length).toBe(50);
  });
});
