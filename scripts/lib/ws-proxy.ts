/**
 * Stands in for Neon's WebSocket proxy: the Neon driver opens `ws://host/v1?address=db-host:port` and speaks the
 * Postgres wire protocol through it. Only loopback destinations are allowed, so it cannot be used as an open relay.
 */
import { createRequire } from 'node:module';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { WebSocketServer as WSServer, WebSocket as WSocket } from 'ws';

// Vite may resolve `ws` to its browser stub when this runs in vitest's global setup.
const { WebSocketServer } = createRequire(import.meta.url)('ws') as typeof import('ws');

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export interface RunningProxy {
  port: number;
  /** host:port, the value of the Worker's DB_PROXY setting. */
  address: string;
  close(): Promise<void>;
}

export function startProxy(port = 0): Promise<RunningProxy> {
  const wss: WSServer = new WebSocketServer({ host: '127.0.0.1', port });
  wss.on('connection', (ws: WSocket, req) => {
    const target = new URL(req.url ?? '/', 'http://proxy').searchParams.get('address') ?? '';
    const at = target.lastIndexOf(':');
    const host = target.slice(0, at);
    const targetPort = Number(target.slice(at + 1));
    if (!LOOPBACK.has(host) || !Number.isInteger(targetPort) || targetPort <= 0 || targetPort > 65535) {
      ws.close(1008, 'destination not allowed');
      return;
    }
    const socket = net.connect({ host, port: targetPort });
    socket.setNoDelay(true);
    const pending: Buffer[] = [];
    let connected = false;
    socket.on('connect', () => {
      connected = true;
      for (const chunk of pending.splice(0)) socket.write(chunk);
    });
    ws.on('message', (data: Buffer) => (connected ? socket.write(data) : pending.push(data)));
    socket.on('data', (data) => ws.readyState === ws.OPEN && ws.send(data));
    socket.on('error', () => ws.close());
    socket.on('close', () => ws.close());
    ws.on('close', () => socket.destroy());
    ws.on('error', () => socket.destroy());
  });
  return new Promise((resolve, reject) => {
    wss.once('error', reject);
    wss.once('listening', () => {
      const { port: bound } = wss.address() as AddressInfo;
      resolve({
        port: bound,
        address: `127.0.0.1:${bound}`,
        close: () =>
          new Promise<void>((done) => {
            for (const client of wss.clients) client.terminate();
            wss.close(() => done());
          }),
      });
    });
  });
}
