/**
 * PgBouncer in front of a local PostgreSQL, configured as Neon documents its pooled endpoint (`-pooler` hosts):
 * transaction mode, max_client_conn=10000, default_pool_size = 0.9 × max_connections, max_prepared_statements=1000,
 * query_wait_timeout=120. Local differences: auth_type plain from a private auth file, loopback only, and
 * max_prepared_statements only where the installed PgBouncer knows it (1.21+; Debian 12 ships 1.18).
 * PgBouncer refuses to run as root: like PostgreSQL it runs as the `postgres` system user.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';

export const PGBOUNCER = process.env.PGBOUNCER_BIN ?? '/usr/sbin/pgbouncer';

/** The installed version (e.g. [1, 18, 0]), or undefined when PgBouncer is not installed. */
export function pgbouncerVersion(): number[] | undefined {
  const out = spawnSync(PGBOUNCER, ['--version'], { encoding: 'utf8' });
  const match = out.status === 0 ? /PgBouncer (\d+)\.(\d+)\.(\d+)/.exec(out.stdout) : null;
  return match ? match.slice(1).map(Number) : undefined;
}

export interface PgBouncerOptions {
  /** Folder for its configuration (created; must be reachable by the postgres user). */
  dir: string;
  port: number;
  postgresPort: number;
  /** PostgreSQL's max_connections (scripts/dev/postgres.ts starts it with 200). */
  maxConnections: number;
  user: string;
  password: string;
}

export interface RunningPgBouncer {
  port: number;
  url(database: string): string;
  stop(): Promise<void>;
}

function postgresUser(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

export async function startPgBouncer(options: PgBouncerOptions): Promise<RunningPgBouncer> {
  const version = pgbouncerVersion();
  if (!version) throw new Error(`PgBouncer is not installed (${PGBOUNCER}); apt-get install pgbouncer`);
  const user = postgresUser();
  mkdirSync(options.dir, { recursive: true, mode: 0o755 });
  const authFile = join(options.dir, 'userlist.txt');
  writeFileSync(authFile, `"${options.user}" "${options.password}"\n`, { mode: 0o600 });
  const knowsPrepared = version[0]! > 1 || version[1]! >= 21;
  const ini = join(options.dir, 'pgbouncer.ini');
  writeFileSync(
    ini,
    [
      '[databases]',
      `* = host=127.0.0.1 port=${options.postgresPort}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${options.port}`,
      'unix_socket_dir =',
      'auth_type = plain',
      `auth_file = ${authFile}`,
      'pool_mode = transaction',
      'max_client_conn = 10000',
      `default_pool_size = ${Math.floor(options.maxConnections * 0.9)}`,
      ...(knowsPrepared ? ['max_prepared_statements = 1000'] : []),
      'query_wait_timeout = 120',
      'admin_users =',
      'logfile =',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  if (user) for (const file of [options.dir, ini, authFile]) chownSync(file, user.uid, user.gid);

  const child: ChildProcess = spawn(PGBOUNCER, [ini], { ...user, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let exited = false;
  child.on('exit', () => (exited = true));
  child.stdout!.on('data', (d) => (output = (output + d).slice(-4000)));
  child.stderr!.on('data', (d) => (output = (output + d).slice(-4000)));
  const until = Date.now() + 10_000;
  while (!(await listening(options.port))) {
    if (exited || Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`PgBouncer did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port: options.port,
    url: (database) => `postgres://${options.user}:${encodeURIComponent(options.password)}@127.0.0.1:${options.port}/${database}`,
    stop: async () => {
      if (exited) return;
      // SIGINT = safe shutdown (waits for clients); SIGTERM = immediate, what a test run wants.
      child.kill('SIGTERM');
      const stopBy = Date.now() + 5_000;
      while (!exited && Date.now() < stopBy) await new Promise((r) => setTimeout(r, 25));
      if (!exited) child.kill('SIGKILL');
    },
  };
}
