/**
 * The WebSocket path: the driver's PostgreSQL wire protocol relayed to the one target over a fresh TCP connection
 * (Neon's proxy does the same: one backend connection per WebSocket, or one PgBouncer client connection).
 */
import net from 'node:net';
import type { WebSocket as WSocket } from 'ws';
import type { Faults, LatencyModel } from './model';
import type { Target } from './pools';

export function relay(ws: WSocket, target: Target, model: LatencyModel, drop?: Faults) {
  const socket = net.connect({ host: target.host, port: target.port });
  socket.setNoDelay(true);
  const pending: Buffer[] = [];
  let connected = false;
  // Who sent last: a message from the other side completes a round trip.
  let last: 'client' | 'server' | undefined;
  let clientMessages = 0;
  const kill = () => {
    socket.destroy();
    ws.terminate();
  };

  socket.on('connect', () => {
    connected = true;
    for (const chunk of pending.splice(0)) socket.write(chunk);
  });
  ws.on('message', (data: Buffer) => {
    last = 'client';
    model.relay(() => (connected ? socket.write(data) : pending.push(data)), false);
    // A dropped connection dies just after its first statement went out (the first message is the startup).
    if (drop && ++clientMessages === 2) setTimeout(kill, drop.delayMs());
  });
  socket.on('data', (data) => {
    const turn = last === 'client';
    last = 'server';
    model.relay(() => ws.readyState === ws.OPEN && ws.send(data), turn);
  });
  // Closing travels like data, so a delayed last message is not cut off.
  socket.on('error', () => model.relay(() => ws.close(), false));
  socket.on('close', () => model.relay(() => ws.close(), false));
  ws.on('close', () => model.relay(() => socket.destroy(), false));
  ws.on('error', () => socket.destroy());
}
