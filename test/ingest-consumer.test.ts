/**
 * The queue path's consumer (src/events/consume.ts) called as Queues calls it, with batches made by the test pool:
 * exactly once across redeliveries and concurrent deliveries, acknowledgement only after the commit, a poison message
 * retried alone while the rest of its batch is acknowledged, the dead-letter queue parked for an operator, events of a
 * deleted source dropped; and the hourly purge of deleted sources' events.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import worker from '../src/index';
import type { EventsMessage } from '../src/events/store';
import { purgeEvents } from '../src/jobs/purge-events';
import { createDb } from '../src/db/client';
import { loadConfig } from '../src/env';
import { createHarness, userWithToken, type Harness } from './harness';

let h: Harness;
let admin: { token: string };
beforeAll(async () => {
  h = await createHarness();
  admin = await userWithToken(h, ['admin']);
});
afterAll(() => h.drop());

async function source() {
  return (await h.call('POST', '/v1/sources', { token: admin.token, body: { name: 'queued' } })).body as { id: number; writeKey: string };
}

const event = (name: string, messageId: string | null = null) => ({
  id: crypto.randomUUID(),
  event: name,
  distinctId: 'u1',
  timestamp: new Date().toISOString(),
  receivedAt: new Date().toISOString(),
  country: null,
  properties: { n: 1 },
  messageId,
});

let sequence = 0;
async function deliver(bodies: unknown[], queue = 'ingest-events', attempts = 1) {
  const batch = createMessageBatch(queue, bodies.map((body) => ({ id: `msg-${++sequence}`, timestamp: new Date(), attempts, body })));
  const ctx = createExecutionContext();
  await (worker.queue as (b: MessageBatch, e: unknown, c: ExecutionContext) => Promise<void>)(batch, { ...h.env, INGEST_RETRY_BASE_SECONDS: '2' }, ctx);
  return getQueueResult(batch, ctx);
}

const count = async (id: number) => (await h.query<{ n: number }>(`select count(*)::int as n from events where source_id = $1`, [id]))[0]!.n;

describe('the ingest queue consumer', () => {
  it('writes a batch, acks it; the same batch redelivered (a crash before the ack) stores nothing twice', async () => {
    const s = await source();
    const message: EventsMessage = { v: 1, source: s.id, events: [event('a'), event('b', 'mid-1'), event('c')] };
    const first = await deliver([message]);
    expect(first.explicitAcks).toEqual([]);
    expect(first.ackAll).toBe(true);
    expect(await count(s.id)).toBe(3);
    const again = await deliver([message, message]);
    expect(again.ackAll).toBe(true);
    expect(await count(s.id)).toBe(3);
  });

  it('concurrent deliveries of one message store it once', async () => {
    const s = await source();
    const message: EventsMessage = { v: 1, source: s.id, events: Array.from({ length: 50 }, (_, i) => event(`e${i}`)) };
    await Promise.all(Array.from({ length: 6 }, () => deliver([message])));
    expect(await count(s.id)).toBe(50);
  });

  it('a poison message is retried alone with backoff; the rest of its batch is written and acknowledged', async () => {
    const s = await source();
    const good: EventsMessage = { v: 1, source: s.id, events: [event('good')] };
    const poison = { v: 1, source: s.id, events: [{ ...event('bad'), timestamp: 'not a time' }] };
    const result = await deliver([good, poison, { unknown: 'shape' }], 'ingest-events', 3);
    expect(result.ackAll).toBe(false);
    expect(result.explicitAcks).toEqual([`msg-${sequence - 2}`]);
    expect(result.retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual([`msg-${sequence - 1}`, `msg-${sequence}`]);
    expect(await count(s.id)).toBe(1);
  });

  it('events of a source deleted meanwhile are dropped, and the batch acknowledged', async () => {
    const s = await source();
    await h.call('DELETE', `/v1/sources/${s.id}`, { token: admin.token });
    const result = await deliver([{ v: 1, source: s.id, events: [event('late')] }]);
    expect(result.ackAll).toBe(true);
    expect(await count(s.id)).toBe(0);
  });

  it('the dead-letter queue parks each message once for an operator', async () => {
    const body = { v: 1, source: 1, events: [{ ...event('bad'), timestamp: 'never' }] };
    const result = await deliver([body], 'ingest-events-dlq', 11);
    expect(result.ackAll).toBe(true);
    const rows = await h.query<{ body: unknown; attempts: number }>(`select body, attempts from ingest_dead_letters where message_id = $1`, [`msg-${sequence}`]);
    expect(rows).toEqual([{ body, attempts: 11 }]);
  });
});

describe('the hourly event purge', () => {
  it('removes a deleted source\u2019s events and keys, then the source itself; live sources are untouched', async () => {
    const gone = await source();
    const kept = await source();
    await deliver([{ v: 1, source: gone.id, events: [event('x', 'k1'), event('y')] }, { v: 1, source: kept.id, events: [event('z')] }]);
    await h.call('DELETE', `/v1/sources/${gone.id}`, { token: admin.token });
    const handle = createDb(loadConfig(h.env));
    try {
      const first = await purgeEvents(handle.db, loadConfig(h.env));
      expect(first.events).toBeGreaterThanOrEqual(2);
      await purgeEvents(handle.db, loadConfig(h.env));
    } finally {
      await handle.close();
    }
    expect(await count(gone.id)).toBe(0);
    expect(await h.query(`select 1 from event_keys where source_id = $1`, [gone.id])).toEqual([]);
    expect(await h.query(`select 1 from sources where id = $1`, [gone.id])).toEqual([]);
    expect(await count(kept.id)).toBe(1);
  });

  it('removes exactly-once keys past their purpose: an `i:` key after the redelivery window, an `m:` key only under INGEST_DEDUP_DAYS', async () => {
    const s = await source();
    const other = await source();
    // Keys of four ages and both kinds, plus the same keys in another source at the current time.
    const keys = [
      ['i:old', 16], ['i:young', 14], ['m:old', 400], ['m:mid', 40], ['m:young', 1],
    ] as const;
    for (const [key, days] of keys) {
      await h.query(`insert into event_keys (source_id, key, created_at) values ($1, $2, now() - make_interval(days => $3::int))`, [s.id, key, days]);
      await h.query(`insert into event_keys (source_id, key) values ($1, $2)`, [other.id, key]);
    }
    const left = async (id: number) =>
      (await h.query<{ key: string }>(`select key from event_keys where source_id = $1 order by key`, [id])).map((r) => r.key);
    const handle = createDb(loadConfig(h.env));
    try {
      // Default (INGEST_DEDUP_DAYS 0): every messageId is remembered forever; only the old route id goes.
      const first = await purgeEvents(handle.db, loadConfig(h.env));
      expect(first.expiredKeys).toBeGreaterThanOrEqual(1);
      expect(await left(s.id)).toEqual(['i:young', 'm:mid', 'm:old', 'm:young']);
      // A 30-day dedup window: messageIds remembered longer than that go too.
      await purgeEvents(handle.db, loadConfig({ ...h.env, INGEST_DEDUP_DAYS: '30' }));
      expect(await left(s.id)).toEqual(['i:young', 'm:young']);
    } finally {
      await handle.close();
    }
    expect(await left(other.id)).toEqual(['i:old', 'i:young', 'm:mid', 'm:old', 'm:young']);
    // A messageId whose key was purged counts again (what a dedup window means), one still remembered does not.
    const again = await deliver([{ v: 1, source: s.id, events: [event('a', 'old'), event('b', 'young')] }]);
    expect(again.ackAll).toBe(true);
    expect(await count(s.id)).toBe(1);
  });
});
