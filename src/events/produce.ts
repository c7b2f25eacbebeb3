import type { EventsMessage } from './store';
import type { StoredEvent } from './validate';

// Cloudflare Queues: a message holds at most 128 KB, a sendBatch at most 100 messages and 256 KB.
const MESSAGE_BYTES = 96 * 1024;
const SEND_BYTES = 224 * 1024;
const SEND_MESSAGES = 100;

const encoder = new TextEncoder();

/**
 * Hands one source's events to the queue: as one message when they fit, otherwise split into messages under the
 * message limit, sent with as few sendBatch calls as the limits allow (a 512 KiB request takes at most three).
 * Resolves once Queues has stored them.
 */
export async function sendToQueue(queue: Queue, source: number, events: StoredEvent[]): Promise<void> {
  const messages: { body: EventsMessage; bytes: number }[] = [];
  let current: StoredEvent[] = [];
  let bytes = 64;
  for (const e of events) {
    const size = encoder.encode(JSON.stringify(e)).byteLength + 1;
    if (current.length > 0 && bytes + size > MESSAGE_BYTES) {
      messages.push({ body: { v: 1, source, events: current }, bytes });
      current = [];
      bytes = 64;
    }
    current.push(e);
    bytes += size;
  }
  messages.push({ body: { v: 1, source, events: current }, bytes });
  if (messages.length === 1) {
    await queue.send(messages[0]!.body, { contentType: 'json' });
    return;
  }
  let group: typeof messages = [];
  let groupBytes = 0;
  const flush = async () => {
    if (group.length > 0) await queue.sendBatch(group.map((m) => ({ body: m.body, contentType: 'json' as const })));
    group = [];
    groupBytes = 0;
  };
  for (const m of messages) {
    if (group.length >= SEND_MESSAGES || groupBytes + m.bytes > SEND_BYTES) await flush();
    group.push(m);
    groupBytes += m.bytes;
  }
  await flush();
}
