/**
 * A TCP relay between the local Neon-style proxy and PostgreSQL that cuts its connection in the middle of a share of
 * the statements, for the soak (scripts/soak/run.ts). It follows the client's side of the Postgres wire protocol (the
 * startup packet, then `type + int32 length` messages) and, for a doomed statement, forwards it to the server and
 * then cuts both sockets after a random 0–`maxDelayMs` delay. Half of the doomed statements are cut
 * right after the Execute (the extended protocol's implicit transaction then never reaches its Sync: rolled back),
 * the other half after the Sync that follows it (the statement runs and commits; its answer is lost). A simple Query
 * message is cut after itself (it commits on its own). So a client sees a dropped connection both for changes that
 * were made and for changes that were not — exactly the ambiguity a real network has.
 * Loopback only: it listens on 127.0.0.1 and connects to one fixed upstream port there.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface FaultRelay {
  port: number;
  stats: { connections: number; statements: number; dropped: number; droppedAfterSync: number; upstreamRefused: number };
  /** Share of statements whose connection is cut mid-statement (0..1). */
  dropShare: number;
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

export async function startFaultRelay(options: { upstreamPort: number; dropShare: number; maxDelayMs?: number; random?: () => number }): Promise<FaultRelay> {
  const { upstreamPort, maxDelayMs = 30, random = Math.random } = options;
  const sockets = new Set<net.Socket>();
  const relay: FaultRelay = {
    port: 0,
    stats: { connections: 0, statements: 0, dropped: 0, droppedAfterSync: 0, upstreamRefused: 0 },
    dropShare: options.dropShare,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const server = net.createServer((client) => {
    relay.stats.connections++;
    const upstream = net.connect({ host: '127.0.0.1', port: upstreamPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.setNoDelay(true);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    let connected = false;
    let cut = false;
    upstream.on('connect', () => (connected = true));
    upstream.on('error', () => {
      if (!connected) relay.stats.upstreamRefused++;
      client.destroy();
    });
    upstream.on('close', () => client.destroy());
    client.on('close', () => cut || upstream.destroy());
    upstream.on('data', (chunk) => client.write(chunk));
    // Frame the client's stream so a cut falls right after a statement was handed to the server. The dice are rolled
    // for every statement, not once per connection: the local proxy keeps its connections to PostgreSQL open and
    // reuses them, so a statement on a long-lived connection must be as likely to be cut as one on a new connection.
    let buffer = Buffer.alloc(0);
    let startup = true;
    let inStatement = false;
    let doomed = false;
    let throughSync = false;
    let executed = false;
    client.on('data', (chunk) => {
      if (cut) return;
      buffer = Buffer.concat([buffer, chunk]);
      let offset = 0;
      for (;;) {
        if (startup) {
          if (buffer.length - offset < 8) break;
          const length = buffer.readInt32BE(offset);
          const code = buffer.readInt32BE(offset + 4);
          if (buffer.length - offset < length) break;
          offset += length;
          if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) startup = false;
          continue;
        }
        if (buffer.length - offset < 5) break;
        const type = String.fromCharCode(buffer[offset]!);
        const length = buffer.readInt32BE(offset + 1);
        if (buffer.length - offset < length + 1) break;
        offset += length + 1;
        if (!inStatement && 'PBEQ'.includes(type)) {
          inStatement = true;
          relay.stats.statements++;
          doomed = random() < relay.dropShare;
          throughSync = random() < 0.5;
          executed = false;
        }
        if (doomed && (type === 'Q' || (type === 'E' && !throughSync) || (type === 'S' && executed))) {
          cut = true;
          break;
        }
        if (type === 'E') executed = true;
        if (type === 'S' || type === 'Q') inStatement = false;
      }
      upstream.write(buffer.subarray(0, offset));
      buffer = buffer.subarray(offset);
      if (cut) {
        // The rest (Sync, …) never reaches the server; the answer never reaches the client.
        relay.stats.dropped++;
        if (executed) relay.stats.droppedAfterSync++;
        // The client's side vanishes; the server's side gets an orderly end of stream after what was forwarded (a
        // reset would make the kernel discard those bytes unread), and whatever it answers is read and dropped.
        upstream.removeAllListeners('data');
        upstream.on('data', () => {});
        setTimeout(() => {
          client.destroy();
          upstream.end();
          setTimeout(() => upstream.destroy(), 10_000).unref();
        }, Math.floor(random() * (maxDelayMs + 1)));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  relay.port = (server.address() as AddressInfo).port;
  return relay;
}
