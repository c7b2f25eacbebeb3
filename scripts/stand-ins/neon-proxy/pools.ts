/**
 * Warm `pg` connections for the HTTP path, one small pool per connection string (database, role, password), as
 * Neon's proxy keeps them. Connections always go to the configured target, never to the host a request names.
 */
import pg from 'pg';
import { HttpProblem } from './http';

export interface Target {
  host: string;
  port: number;
}

type TrackedClient = pg.PoolClient & { transactionStatus?: string };

export class PoolSet {
  private pools = new Map<string, pg.Pool>();

  constructor(
    private target: Target,
    private size: number,
  ) {}

  forConnectionString(connectionString: string, allowed: (host: string, port: number) => boolean): pg.Pool {
    const existing = this.pools.get(connectionString);
    if (existing) return existing;
    let url: URL;
    try {
      url = new URL(connectionString);
    } catch {
      throw new HttpProblem(400, 'Neon-Connection-String is not a URL');
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new HttpProblem(400, 'Neon-Connection-String is not postgres://');
    if (!allowed(url.hostname, Number(url.port || 5432))) throw new HttpProblem(403, 'destination not allowed');
    const pool = new pg.Pool({
      host: this.target.host,
      port: this.target.port,
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      database: decodeURIComponent(url.pathname.slice(1)),
      application_name: url.searchParams.get('application_name') ?? undefined,
      max: this.size,
      // Short: test databases come and go, and each keeps backends only while it is in use.
      idleTimeoutMillis: 5_000,
      connectionTimeoutMillis: 5_000,
    });
    // An idle connection whose backend goes away (database dropped, server restarted) is removed by the pool.
    pool.on('error', () => {});
    pool.on('connect', (client) => {
      // A connection cut while checked out (fault hook, server restart) fails its query; that is the whole story.
      client.on('error', () => {});
      const tracked = client as TrackedClient;
      const connection = (client as unknown as { connection: { on(e: string, f: (m: { status: string }) => void): void } }).connection;
      connection.on('readyForQuery', (message) => (tracked.transactionStatus = message.status));
    });
    this.pools.set(connectionString, pool);
    return pool;
  }

  /**
   * A connection left inside a transaction (a lone `begin` sent as a statement) or in a failed one must not serve
   * the next request: it is closed instead of going back to the pool.
   */
  static unclean(client: pg.PoolClient): boolean {
    const status = (client as TrackedClient).transactionStatus;
    return status !== undefined && status !== 'I';
  }

  static destroy(client: pg.PoolClient) {
    (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
  }

  async end() {
    await Promise.all([...this.pools.values()].map((p) => p.end().catch(() => {})));
    this.pools.clear();
  }
}
