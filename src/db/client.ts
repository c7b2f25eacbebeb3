import { neon, neonConfig, Pool } from '@neondatabase/serverless';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as overHttp } from 'drizzle-orm/neon-http';
import { drizzle as overWebSocket } from 'drizzle-orm/neon-serverless';
import type { Config } from '../env';

/** What both transports answer to `db.execute`: the rows (typed by the caller) and the counts. */
export interface DbResult<Row> {
  rows: Row[];
  rowCount: number | null;
  command: string;
}
export interface DbQueryResultHKT extends PgQueryResultHKT {
  type: DbResult<this['row']>;
}
// No `schema` here: every query is `db.execute(sql…)`, and passing the tables would bundle drizzle's column builders
// and relational-query config (~4.5 KB gzip) for a `db.query` nobody calls. src/db/schema.ts serves drizzle-kit.
export type Db = PgDatabase<DbQueryResultHKT>;

export interface DbHandle {
  db: Db;
  /** Statements sent so far, including BEGIN/COMMIT: the round-trip budget the tests and benchmarks check. */
  statements(): number;
  close(): Promise<void>;
}

export type DbConfig = Pick<Config, 'DATABASE_URL' | 'DB_PROXY' | 'DB_TRANSPORT' | 'DB_CONNECT_TIMEOUT_MS' | 'DB_QUERY_TIMEOUT_MS'>;

/**
 * Points the driver at a local stand-in for Neon's proxy (`host:port/secret`, see scripts/stand-ins/neon-proxy/index.ts): plain
 * http and ws on loopback, the per-run secret as the first path segment. Without it the driver keeps Neon's defaults
 * (https://api.<endpoint host>/sql, wss with pipelined TLS).
 */
export function useLocalProxy(proxy: string) {
  const slash = proxy.indexOf('/');
  const hostPort = slash < 0 ? proxy : proxy.slice(0, slash);
  const secret = slash < 0 ? '' : `${proxy.slice(slash)}`;
  neonConfig.fetchEndpoint = `http://${hostPort}${secret}/sql`;
  neonConfig.wsProxy = (host, port) => `${hostPort}${secret}/v1?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
}

/**
 * A Drizzle handle for one request. Over HTTP (the default) each statement is one `POST /sql` on the Worker's
 * reusable outbound connection, run by Neon's proxy on a warm pooled backend: one round trip, nothing to close.
 * Over WebSocket a Pool lives for the request (Workers must not share a socket between requests) and connects at
 * the first statement; it is what an interactive transaction needs (`db.transaction`), which HTTP cannot do.
 */
export function createDb(config: DbConfig, transport: 'http' | 'websocket' = config.DB_TRANSPORT): DbHandle {
  if (config.DB_PROXY) useLocalProxy(config.DB_PROXY);
  let statements = 0;
  const logger = { logQuery: () => void statements++ };
  if (transport === 'http') {
    const timeout = config.DB_QUERY_TIMEOUT_MS;
    // A hung network answers 503 after the timeout instead of holding the request until the client gives up.
    neonConfig.fetchFunction = (url: string, init: RequestInit) => fetch(url, { ...init, signal: AbortSignal.timeout(timeout) });
    const db = overHttp({ client: neon(config.DATABASE_URL), logger }) as unknown as Db;
    return { db, statements: () => statements, close: async () => {} };
  }
  const pool = new Pool({ connectionString: config.DATABASE_URL, connectionTimeoutMillis: config.DB_CONNECT_TIMEOUT_MS });
  // An idle client that loses its socket emits 'error'; without a listener that would crash the isolate.
  pool.on('error', () => {});
  const db = overWebSocket({ client: pool, logger }) as unknown as Db;
  return { db, statements: () => statements, close: () => pool.end() };
}
