/**
 * The stand-in for Neon's proxy (scripts/stand-ins/neon-proxy/index.ts) in a process of its own, so the load generator in the
 * benchmark's process never delays the database traffic it relays, with its control path on (counters, RTT).
 * Usage: PROXY_SECRET=… node --import tsx proxy-server.ts <port> <postgres-port> [rtt-ms].
 * Exits on SIGTERM/SIGINT, and by itself when the benchmark that started it is gone.
 */
import { startProxy } from '../../scripts/stand-ins/neon-proxy';

const [port, pgPort, rtt] = process.argv.slice(2).map(Number);
const parent = process.ppid;
const proxy = await startProxy({
  port,
  target: { host: '127.0.0.1', port: pgPort! },
  secret: process.env.PROXY_SECRET,
  rttMs: rtt ?? 0,
  control: true,
});
console.log(`proxy listening on 127.0.0.1:${proxy.port}`);

const stop = () => void proxy.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Re-parented (the benchmark was killed outright): nothing will ever stop us, so stop now.
setInterval(() => {
  if (process.ppid !== parent) stop();
}, 1000).unref();
setInterval(() => {}, 60_000);
