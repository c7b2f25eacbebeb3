/**
 * The floor of one loopback HTTP exchange for lib/stand-in-overhead.ts: a node:http server set up like the stand-in
 * (keep-alive, no Nagle, the body read to its end) that answers every request with the stand-in's own answer to
 * `select 1` (CANNED_BODY) without touching PostgreSQL. Usage: CANNED_BODY=… node --import tsx canned-sql-server.ts
 * (prints the port it listens on). Exits on SIGTERM, and by itself when its parent is gone.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const body = Buffer.from(process.env.CANNED_BODY ?? '{}');
const parent = process.ppid;
const server = http.createServer({ keepAliveTimeout: 60_000, noDelay: true }, (req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => console.log(`listening ${(server.address() as AddressInfo).port}`));
process.on('SIGTERM', () => process.exit(0));
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 1000).unref();
