import { sql } from 'drizzle-orm';
import { createDb, type Db } from '../db/client';
import { loadConfig, type Bindings } from '../env';
import { describeError, isDatabaseUnavailable } from '../lib/db-errors';
import { eventRows, storeEvents, type EventsMessage } from './store';

/** Backoff of a retried delivery: RETRY_BASE × 2^attempts seconds, at most 10 minutes (Queues allow 12 hours). */
const MAX_DELAY_SECONDS = 600;
export const retryDelay = (attempts: number, base: number) => Math.min(MAX_DELAY_SECONDS, base * 2 ** Math.max(0, attempts - 1));

/** The dead-letter queue is the one whose name ends in -dlq (wrangler.toml). */
export const isDeadLetterQueue = (queue: string) => queue.endsWith('-dlq');

function isEventsMessage(body: unknown): body is EventsMessage {
  const m = body as EventsMessage;
  return typeof m === 'object' && m !== null && m.v === 1 && Number.isInteger(m.source) && Array.isArray(m.events);
}

/** Stores the events of these messages exactly once, in one multi-row statement; returns the rows inserted. */
export async function storeMessages(db: Db, bodies: unknown[]): Promise<number> {
  const rows: unknown[] = [];
  for (const body of bodies) {
    // A body this version did not write can never be stored: it goes to the dead letters after its retries.
    if (!isEventsMessage(body)) throw new Error('not an events message');
    for (const e of body.events) rows.push({ ...e, source: body.source });
  }
  const result = await db.execute<{ stored: number }>(sql`
    with ${storeEvents(eventRows(JSON.stringify(rows)), { keyEveryEvent: true })}
    select (select count(*) from stored)::int as stored`);
  return result.rows[0]!.stored;
}

/**
 * The queue consumer (wrangler.toml [[queues.consumers]]). A delivered batch is written in one statement and
 * acknowledged only after it committed. When that fails because the database is unreachable, every message is retried
 * with backoff; when it fails otherwise, each message is written on its own, so one poison message cannot hold back
 * the others: those that commit are acknowledged, the rest retried until Queues hands them to the dead-letter queue.
 * A redelivered message (after a crash between commit and ack) stores nothing twice (src/events/store.ts).
 */
export async function consumeEvents(batch: MessageBatch<unknown>, env: Bindings): Promise<void> {
  const config = loadConfig(env);
  if (isDeadLetterQueue(batch.queue)) return parkDeadLetters(batch, config);
  const handle = createDb(config);
  const retry = (m: Message<unknown>) => m.retry({ delaySeconds: retryDelay(m.attempts, config.INGEST_RETRY_BASE_SECONDS) });
  try {
    try {
      await storeMessages(handle.db, batch.messages.map((m) => m.body));
      batch.ackAll();
      return;
    } catch (error) {
      console.error(JSON.stringify({ level: 'error', msg: 'ingest batch failed', queue: batch.queue, messages: batch.messages.length, error: describeError(error) }));
      if (isDatabaseUnavailable(error) || batch.messages.length === 1) {
        for (const m of batch.messages) retry(m);
        return;
      }
    }
    for (const m of batch.messages) {
      try {
        await storeMessages(handle.db, [m.body]);
        m.ack();
      } catch {
        retry(m);
      }
    }
  } finally {
    await handle.close().catch(() => {});
  }
}

/**
 * The dead-letter queue's consumer: parks each message in `ingest_dead_letters` (once per message id), where an
 * operator reads and replays it (npm run ingest:dead-letters). While the database is unreachable the messages stay
 * in the dead-letter queue and are retried.
 */
async function parkDeadLetters(batch: MessageBatch<unknown>, config: ReturnType<typeof loadConfig>): Promise<void> {
  const handle = createDb(config);
  try {
    const rows = batch.messages.map((m) => ({ id: m.id, body: m.body, attempts: m.attempts }));
    await handle.db.execute(sql`
      insert into ingest_dead_letters (message_id, body, attempts)
      select id, body, attempts from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as d(id text, body jsonb, attempts int)
      on conflict (message_id) do nothing`);
    console.error(JSON.stringify({ level: 'error', msg: 'ingest messages dead-lettered', messages: batch.messages.length }));
    batch.ackAll();
  } catch (error) {
    console.error(JSON.stringify({ level: 'error', msg: 'dead letters not parked', error: describeError(error) }));
    batch.retryAll({ delaySeconds: retryDelay(batch.messages[0]?.attempts ?? 1, config.INGEST_RETRY_BASE_SECONDS) });
  } finally {
    await handle.close().catch(() => {});
  }
}
