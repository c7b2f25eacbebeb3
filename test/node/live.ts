/**
 * A live stack for Node-side tests: throw-away PostgreSQL, the Neon-style proxy and `wrangler dev` (workerd), with
 * the Worker's output captured. Used where a test must control the processes (stop the database) or read the logs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey } from '../../scripts/lib/keys';
import { migrate, projectRoot } from '../../scripts/lib/migrate';
import { freePort, startPostgres, type RunningPostgres } from '../../scripts/lib/postgres';
import { startProxy, type RunningProxy } from '../../scripts/lib/ws-proxy';

export interface LiveStack {
  url: string;
  databaseUrl: string;
  output(): string;
  stopDatabase(): Promise<void>;
  startDatabase(): Promise<void>;
  close(): Promise<void>;
}

export async function startLiveStack(vars: Record<string, string> = {}): Promise<LiveStack> {
  const root = mkdtempSync(join(tmpdir(), 'dashboard-api-live-'));
  chmodSync(root, 0o755);
  const dataDir = join(root, 'pgdata');
  const password = randomBytes(12).toString('hex');
  const pgPort = await freePort();
  let postgres: RunningPostgres | undefined = await startPostgres({ dataDir, port: pgPort, password, fast: true });
  const proxy: RunningProxy = await startProxy();
  const databaseUrl = postgres.url('postgres');
  migrate(databaseUrl);

  const port = await freePort();
  const envFile = join(root, 'vars.env');
  const all: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    DB_PROXY: proxy.address,
    JWT_PRIVATE_KEY: await generateSigningKey(),
    PASSWORD_HASH_PARAMS: 'N=1024,r=8,p=1',
    DB_CONNECT_TIMEOUT_MS: '2000',
    ALLOW_SIGNUP: 'true',
    SERVER_TIMING: 'true',
    ...vars,
  };
  writeFileSync(envFile, Object.entries(all).map(([k, v]) => `${k}='${v}'`).join('\n'));
  let output = '';
  const worker: ChildProcess = spawn(
    process.execPath,
    [join(projectRoot, 'node_modules', 'wrangler', 'bin', 'wrangler.js'), 'dev', '--port', String(port), '--ip', '127.0.0.1', '--env-file', envFile, '--persist-to', join(root, 'wrangler'), '--show-interactive-dev-session=false'],
    { cwd: projectRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' } },
  );
  worker.stdout!.on('data', (d) => (output += d));
  worker.stderr!.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {}
    if (Date.now() > until || worker.exitCode !== null) throw new Error(`wrangler dev did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    url,
    databaseUrl,
    output: () => output,
    stopDatabase: async () => {
      await postgres?.stop();
      postgres = undefined;
    },
    startDatabase: async () => {
      postgres = await startPostgres({ dataDir, port: pgPort, password, fast: true });
    },
    close: async () => {
      try {
        process.kill(-worker.pid!, 'SIGTERM');
      } catch {}
      await new Promise((r) => (worker.exitCode !== null ? r(undefined) : worker.once('exit', r)));
      await proxy.close();
      await postgres?.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
