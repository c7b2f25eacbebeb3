import { Pool, neonConfig } from '@neondatabase/serverless';
import { drizzle } from 'drizzle-orm/neon-serverless';
import type { Config } from '../env';
// No `schema` here: every query is `db.execute(sql…)`, and passing the tables would bundle drizzle's column builders
// and relational-query config (~4.5 KB gzip) for a `db.query` nobody calls. src/db/schema.ts serves drizzle-kit.
export type Db = ReturnType<typeof drizzle>;

export interface DbHandle {
  db: Db;
  /** Statements sent so far, including BEGIN/COMMIT: the round-trip budget the tests and benchmarks check. */
  statements(): number;
  close(): Promise<void>;
}

/**
 * A Drizzle instance over a Pool that lives for one request: Workers must not share a socket between requests, and
 * the pool connects only when the first statement runs, so routes that never query never connect.
 */
export function createDb(config: Pick<Config, 'DATABASE_URL' | 'DB_PROXY' | 'DB_CONNECT_TIMEOUT_MS' | 'DB_STATEMENT_TIMEOUT_MS'>): DbHandle {
  const proxy = config.DB_PROXY;
  if (proxy) {
    // A local stand-in for Neon's proxy speaks plain ws; Neon itself keeps the driver's defaults (wss, pipelined TLS).
    neonConfig.wsProxy = (host, port) => `${proxy}/v1?address=${host}:${port}`;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineTLS = false;
  }
  const pool = new Pool({
    connectionString: config.DATABASE_URL,
    connectionTimeoutMillis: config.DB_CONNECT_TIMEOUT_MS,
    ...(config.DB_STATEMENT_TIMEOUT_MS > 0 ? { statement_timeout: config.DB_STATEMENT_TIMEOUT_MS } : {}),
  });
  // An idle client that loses its socket emits 'error'; without a listener that would crash the isolate.
  pool.on('error', () => {});
  let statements = 0;
  const db = drizzle({ client: pool, logger: { logQuery: () => void statements++ } });
  return { db, statements: () => statements, close: () => pool.end() };
}
