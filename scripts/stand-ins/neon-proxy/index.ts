/**
 * The local stand-in for Neon's proxy, on one loopback port, for both protocols @neondatabase/serverless speaks:
 * - `POST /<secret>/sql`: SQL over HTTP (see neon-proxy-http.ts), on warm pooled connections;
 * - `GET /<secret>/v1?address=host:port` upgraded to a WebSocket that relays the PostgreSQL wire protocol.
 * It reaches only the one PostgreSQL it was started for (any other address is refused, on both paths), refuses
 * anything a browser sends (an `Origin` header), and needs the per-run secret in the path. Optional: a simulated
 * round-trip time (`rttMs`, see neon-proxy-model.ts) and a fault hook that drops a share of exchanges mid-statement.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocketServer as WSServer } from 'ws';
import { execute, HttpProblem, isPostgresError, parseSqlRequest, postgresErrorBody, readBody, send } from './http';
import { Faults, LatencyModel, type FaultOptions, type ProxyStats } from './model';
import { PoolSet, type Target } from './pools';
import { relay } from './ws';

// Vite may resolve `ws` to its browser stub when this runs in vitest's global setup.
const { WebSocketServer } = createRequire(import.meta.url)('ws') as typeof import('ws');

export interface ProxyOptions {
  /** The one PostgreSQL this proxy may reach (loopback). */
  target: Target;
  /** Port to listen on (loopback only); 0 = any free one. */
  port?: number;
  /** The per-run secret; a random one when omitted. */
  secret?: string;
  /** Simulated round-trip time between the Worker and the database, applied to every exchange (DEV_DB_RTT_MS). */
  rttMs?: number;
  /** Drop a share of HTTP requests / WebSocket connections mid-statement (soak and fault tests). */
  faults?: FaultOptions;
  /** Warm connections per database/role kept by the HTTP path (default 20: a Worker under load sends its statements concurrently). */
  poolSize?: number;
  /**
   * Serve `GET /<secret>/control` (the counters) and `POST /<secret>/control` `{rttMs?, faults?}` (change them while
   * running): for the benchmark and soak runs, which drive the stand-in in another process.
   */
  control?: boolean;
}

export interface RunningProxy {
  port: number;
  /** `127.0.0.1:port/secret`: the value of the Worker's DB_PROXY setting. */
  address: string;
  secret: string;
  setRtt(ms: number): void;
  setFaults(faults: FaultOptions | undefined): void;
  stats(): ProxyStats;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Reads `target` from a postgres:// URL (the one PostgreSQL the proxy may reach). */
export function targetOf(databaseUrl: string): Target {
  const url = new URL(databaseUrl);
  return { host: url.hostname, port: Number(url.port || 5432) };
}

function allowed(target: Target, host: string, port: number): boolean {
  return LOOPBACK.has(host) && port === target.port;
}

/** The path of a request target, without its query (cheaper than a URL object on the per-statement path). */
function pathOf(target = '/'): string {
  const query = target.indexOf('?');
  return query < 0 ? target : target.slice(0, query);
}

/** `/<secret>/<rest>` → `rest` when the secret matches (constant time), else undefined. */
function afterSecret(path: string, secret: Buffer): string | undefined {
  const match = /^\/([^/]+)\/(.*)$/.exec(path);
  if (!match) return undefined;
  const given = Buffer.from(match[1]!);
  if (given.length !== secret.length || !timingSafeEqual(given, secret)) return undefined;
  return match[2];
}

export function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  const { target } = options;
  if (!LOOPBACK.has(target.host)) throw new Error(`the proxy only reaches a loopback PostgreSQL, not ${target.host}`);
  const secret = options.secret ?? randomBytes(24).toString('hex');
  const secretBytes = Buffer.from(secret);
  const model = new LatencyModel(options.rttMs ?? 0);
  const faults = new Faults(options.faults);
  const pools = new PoolSet(target, options.poolSize ?? 20);
  const fresh = new WeakSet<Socket>();

  const server = http.createServer({ keepAliveTimeout: 60_000 }, async (req, res) => {
    try {
      if (req.headers.origin !== undefined) throw new HttpProblem(403, 'browser requests are refused');
      const rest = afterSecret(pathOf(req.url), secretBytes);
      if (rest === 'control' && options.control) return void control(req, res);
      if (rest !== 'sql') throw new HttpProblem(404, 'not found');
      if (req.method !== 'POST') throw new HttpProblem(405, 'POST only');
      const request = parseSqlRequest(req, await readBody(req));
      const pool = pools.forConnectionString(request.connectionString, (host, port) => allowed(target, host, port));
      const newConnection = fresh.has(req.socket);
      fresh.delete(req.socket);
      await model.requestStarts(newConnection);
      let client;
      try {
        client = await pool.connect();
      } catch (error) {
        if (isPostgresError(error)) throw error;
        throw new HttpProblem(502, `could not connect to PostgreSQL: ${(error as Error).message}`, '08006');
      }
      const drop = faults.pick();
      let broken = false;
      // Cut only while this request holds the connection: a late timer must never hit the next request's statement.
      const cut = drop === 'backend' ? setTimeout(() => ((broken = true), PoolSet.destroy(client)), faults.delayMs()) : undefined;
      try {
        const result = await execute(client, request);
        await model.responseStarts();
        if (drop === 'answer') return void req.socket.destroy();
        send(res, 200, result);
      } finally {
        clearTimeout(cut);
        client.release(broken || PoolSet.unclean(client));
      }
    } catch (error) {
      if (res.headersSent || req.socket.destroyed) return;
      if (isPostgresError(error)) return send(res, 400, postgresErrorBody(error));
      if (error instanceof HttpProblem) return send(res, error.status, { message: error.message, ...(error.code ? { code: error.code } : {}) });
      send(res, 502, { message: `connection to PostgreSQL lost: ${(error as Error).message}`, code: '08006' });
    }
  });
  const control = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    try {
      if (req.method === 'POST') {
        const change = JSON.parse(await readBody(req)) as { rttMs?: number; faults?: FaultOptions | null };
        if (change.rttMs !== undefined) model.setRtt(change.rttMs);
        if (change.faults !== undefined) faults.set(change.faults ?? undefined);
      }
      send(res, 200, model.stats());
    } catch (error) {
      send(res, 400, { message: (error as Error).message });
    }
  };
  server.on('connection', (socket: Socket) => {
    fresh.add(socket);
    socket.setNoDelay(true);
  });

  const wss: WSServer = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    const url = new URL(req.url ?? '/', 'http://proxy');
    if (req.headers.origin !== undefined) return refuse(403, 'Forbidden');
    const rest = afterSecret(url.pathname, secretBytes);
    if (rest !== 'v1' && rest !== 'v2') return refuse(404, 'Not Found');
    const address = url.searchParams.get('address') ?? '';
    const at = address.lastIndexOf(':');
    if (!allowed(target, address.slice(0, at), Number(address.slice(at + 1)))) return refuse(403, 'Forbidden');
    void model.upgradeStarts().then(() => {
      if (socket.destroyed) return;
      wss.handleUpgrade(req, socket, head, (ws) => relay(ws, target, model, faults.pick() !== undefined ? faults : undefined));
    });
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        port,
        address: `127.0.0.1:${port}/${secret}`,
        secret,
        setRtt: (ms) => model.setRtt(ms),
        setFaults: (next) => faults.set(next),
        stats: () => model.stats(),
        close: async () => {
          for (const client of wss.clients) client.terminate();
          await new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          });
          await pools.end();
        },
      });
    });
  });
}
