/**
 * A live stack for Node-side tests: throw-away PostgreSQL, the Neon-style proxy and `wrangler dev` (workerd), with
 * the Worker's output captured. Used where a test must control the processes (stop the database), read the logs,
 * or talk to the API exactly as a client would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { generateCursorSecret, generateMfaKey, generateSigningKey } from './keys';
import { migrate } from './migrate';
import { freePort, startPostgres, type RunningPostgres } from './postgres';
import { startProxy, targetOf } from '../stand-ins/neon-proxy';
import { setRoleStatementTimeout } from './statement-timeout';
import { BUILT_CONFIG_ENV, buildWorker, WRANGLER } from './worker-copy';

/**
 * wrangler 4.86's ProxyWorker answers a request it lost on its way to the Worker (a pooled connection closed while
 * idle) with this plain-text 503 for any method but GET and HEAD, without a reload and without a log line: a
 * response the API never sent (docs/ops.md, "Your worker restarted mid-request").
 */
export const WRANGLER_RESTART_503 = 'Your worker restarted mid-request';
export const isWranglerRestart503 = (body: string) => body.startsWith(WRANGLER_RESTART_503);

export interface RunningWorker {
  url: string;
  output(): string;
  close(): Promise<void>;
}

/**
 * `wrangler dev` on a free port with the given bindings (written to a temporary env file), behind its own proxy,
 * run from a private copy of the sources (scripts/dev/worker-copy.ts says why).
 */
export async function startWorker(databaseUrl: string, vars: Record<string, string> = {}): Promise<RunningWorker> {
  const shared = process.env[BUILT_CONFIG_ENV];
  const config = shared || buildWorker();
  const root = mkdtempSync(join(tmpdir(), 'dashboard-api-worker-'));
  const proxy = await startProxy({ target: targetOf(databaseUrl) });
  const port = await freePort();
  // Its own inspector port too: wrangler's default (9229, or the next free one it finds) is a race between stacks
  // started side by side, which the loser answers with workerd's "bind 127.0.0.1:9229: Address already in use".
  const inspectorPort = await freePort();
  const envFile = join(root, 'vars.env');
  const all: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    DB_PROXY: proxy.address,
    JWT_PRIVATE_KEY: await generateSigningKey(),
    CURSOR_SECRET: generateCursorSecret(),
    MFA_ENCRYPTION_KEY: generateMfaKey(),
    PASSWORD_HASH_PARAMS: 'N=1024,r=8,p=1',
    INSECURE_PASSWORD_HASH_FOR_TESTS: 'true',
    // As under `npm run dev`: wrangler dev cannot vouch for any client-IP header.
    TRUSTED_IP_HEADER: '',
    // No internet here; tests that check breached passwords pass HIBP_URL of the local stand-in.
    HIBP_ENABLED: 'false',
    DB_CONNECT_TIMEOUT_MS: '2000',
    ALLOW_SIGNUP: 'true',
    SERVER_TIMING: 'true',
    ...vars,
  };
  writeFileSync(envFile, Object.entries(all).map(([k, v]) => `${k}='${v}'`).join('\n'));
  let output = '';
  const worker: ChildProcess = spawn(
    process.execPath,
    [WRANGLER, 'dev', '-c', config, '--port', String(port), '--inspector-port', String(inspectorPort), '--ip', '127.0.0.1', '--env-file', envFile, '--persist-to', join(root, 'wrangler'), '--show-interactive-dev-session=false'],
    { cwd: dirname(config), detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' } },
  );
  worker.stdout!.on('data', (d) => (output += d));
  worker.stderr!.on('data', (d) => (output += d));
  const close = async () => {
    try {
      // wrangler spawns workerd: signal the whole group so nothing keeps the port.
      process.kill(-worker.pid!, 'SIGTERM');
    } catch {}
    await new Promise((r) => (worker.exitCode !== null ? r(undefined) : worker.once('exit', r)));
    await proxy.close();
    rmSync(root, { recursive: true, force: true });
    if (!shared) rmSync(dirname(config), { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 240_000; // eight contract files start their stacks side by side: on 2 busy cores this has taken over 90 s
  for (;;) {
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {}
    if (Date.now() > until || worker.exitCode !== null) {
      await close();
      throw new Error(`wrangler dev did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, output: () => output, close };
}

/** One statement on a fresh TCP connection, for arranging and checking database state. */
export async function query<T extends pg.QueryResultRow = any>(databaseUrl: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

export interface LiveStack extends RunningWorker {
  databaseUrl: string;
  stopDatabase(): Promise<void>;
  startDatabase(): Promise<void>;
}

export async function startLiveStack(vars: Record<string, string> = {}): Promise<LiveStack> {
  const root = mkdtempSync(join(tmpdir(), 'dashboard-api-live-'));
  chmodSync(root, 0o755);
  const dataDir = join(root, 'pgdata');
  const password = randomBytes(12).toString('hex');
  const pgPort = await freePort();
  let postgres: RunningPostgres | undefined = await startPostgres({ dataDir, port: pgPort, password, fast: true });
  const databaseUrl = postgres.url('postgres');
  let worker: RunningWorker;
  try {
    migrate(databaseUrl);
    await setRoleStatementTimeout(databaseUrl);
    worker = await startWorker(databaseUrl, vars);
  } catch (error) {
    // A Worker that did not start must not leave its PostgreSQL running behind the failed test.
    await postgres.stop();
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  return {
    ...worker,
    databaseUrl,
    stopDatabase: async () => {
      await postgres?.stop();
      postgres = undefined;
    },
    startDatabase: async () => {
      postgres = await startPostgres({ dataDir, port: pgPort, password, fast: true });
    },
    close: async () => {
      await worker.close();
      await postgres?.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
