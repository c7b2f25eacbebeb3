/**
 * The Neon-style WebSocket proxy (scripts/lib/ws-proxy.ts) in a process of its own, so the load generator in the
 * benchmark's process never delays the database traffic it relays. Usage: node --import tsx proxy-server.ts <port>.
 * Exits on SIGTERM/SIGINT, and by itself when the benchmark that started it is gone.
 */
import { startProxy } from '../../scripts/lib/ws-proxy';

const port = Number(process.argv[2] ?? 0);
const parent = process.ppid;
const proxy = await startProxy(port);
console.log(`proxy listening on ${proxy.address}`);

const stop = () => void proxy.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Re-parented (the benchmark was killed outright): nothing will ever stop us, so stop now.
setInterval(() => {
  if (process.ppid !== parent) stop();
}, 1000).unref();
setInterval(() => {}, 60_000);
