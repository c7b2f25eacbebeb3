/**
 * The stack the load suites share, started once per run: a throw-away PostgreSQL (unless DATABASE_URL is set),
 * migrated and seeded with scripts/seed/seed.ts; the Neon-style proxy in its own process; the API under `wrangler dev`
 * twice (HTTP and WebSocket transport) and the bench-only floor Worker (bench/floor-worker.ts), all three serving
 * bundles built up front. Everything is stopped by `stop()`, on an error and on Ctrl-C (scripts/dev/processes.ts).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { generateCursorSecret, generateSigningKey } from '../../scripts/dev/keys';
import { migrate, projectRoot } from '../../scripts/dev/migrate';
import { startPostgres } from '../../scripts/dev/postgres';
import { onShutdown, spawnManaged, type Managed } from '../../scripts/dev/processes';
import { setRoleStatementTimeout } from '../../scripts/dev/statement-timeout';
import { progressPrinter, seed, type SeedResult } from '../../scripts/seed/seed';
import { endpoints } from './endpoints';
import { prepareAccounts, type Accounts } from './accounts';
import { build, configForBundle, type Build } from './bundle';
import { childRunning } from './cpu';
import { disableNetworkCapture } from '../../scripts/dev/devtools';
import { median, runLoad, type LoadRequest, type LoadResult } from './load';
import type { Phase } from './phases';
import { variantsOf, withTransport, type Transport, type Variant, type WorkerName } from './variants';
import { distinctFreePorts, LOGS, log, sleep, waitForPort, waitForWorker, WRANGLER, wranglerEnv } from './workers';

export interface BenchConfig {
  quick: boolean;
  users: number;
  events: number;
  connections: number;
  durationS: number;
  rounds: number;
  baseRttMs: number;
  rtts: number[];
  /** Endpoints whose name contains one of these (the floors always run); null: all. */
  only: string[] | null;
}

export interface DevtoolsCapture {
  name: string;
  transport: Transport;
  on: { rps: number; p50: number };
  off: { rps: number; p50: number };
}

export interface Stack extends Accounts {
  config: BenchConfig;
  root: string;
  base: Record<WorkerName, string>;
  /** The database is on this machine: the proxy runs, its round trips are counted and its RTT can be set. */
  local: boolean;
  external: boolean;
  dbUrl: string;
  vars: Record<string, string>;
  seeded: SeedResult;
  builds: { app: Build; floor: Build };
  /** Process trees whose CPU per request is reported (lib/cpu.ts). */
  cpuRoots: Record<string, number | undefined>;
  /** Median time of a request that does nothing, per Worker, measured idle. */
  idle: Record<WorkerName, number>;
  /** The selected endpoints (--only; the floors always), each on its transports, in the order a round runs them. */
  variants: Variant[];
  note(problem: string): void;
  /** The request of a variant, its transport chosen (paths are functions of the context: computed now). */
  requestFor(v: Variant): LoadRequest;
  /** One autocannon run of a variant for `durationS`. */
  run(v: Variant, durationS: number, request?: LoadRequest): Promise<LoadResult>;
  /** Waits until queued work in workerd (e.g. sign-ins hashing) is done, so it cannot spill into the next run. */
  settle(worker: WorkerName): Promise<void>;
  /** wrangler dev's DevTools network capture off on every Worker, the db floors measured with and without it (once). */
  captureOff(floors: Variant[]): Promise<DevtoolsCapture[]>;
  proxyStats(): Promise<{ roundTrips: number } | undefined>;
  setProxyRtt(rttMs: number): Promise<unknown>;
  stop(): Promise<void>;
}

export async function startStack(config: BenchConfig, root: string, phase: Phase, note: (problem: string) => void): Promise<Stack> {
  const only = config.only;
  const variants = endpoints.filter((e) => e.floor || !only || only.some((o) => e.name.toLowerCase().includes(o))).flatMap(variantsOf);
  // Both Workers run from bundles built up front (the API's is also the one whose size is reported).
  const appConfig = join(projectRoot, 'wrangler.toml');
  const floorConfig = join(projectRoot, 'bench', 'wrangler.floor.toml');
  const builds = phase('build', () => Promise.all([build(root, 'app', appConfig), build(root, 'floor', floorConfig)]));
  builds.catch(() => {}); // awaited below

  // --- The Workers start first (their start-up is the longest step); PostgreSQL, migrations and seeding meanwhile.
  const [pgPort, proxyPort, appPort, floorPort, appInspector, floorInspector, wsPort, wsInspector] = await distinctFreePorts(8);
  const proxySecret = randomBytes(24).toString('hex');
  const proxyControl = `http://127.0.0.1:${proxyPort}/${proxySecret}/control`;
  const external = Boolean(process.env.DATABASE_URL);
  const pgPassword = randomBytes(12).toString('hex');
  const dbUrl = process.env.DATABASE_URL || `postgres://postgres:${pgPassword}@127.0.0.1:${pgPort}/bench`;
  const local = ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(new URL(dbUrl).hostname);
  const vars: Record<string, string> = {
    DATABASE_URL: dbUrl,
    JWT_PRIVATE_KEY: await generateSigningKey(),
    CURSOR_SECRET: generateCursorSecret(),
    // The load comes from many simulated clients (a CF-Connecting-IP each); wrangler dev simulates request.cf.
    TRUSTED_IP_HEADER: 'cf-connecting-ip',
    SERVER_TIMING: 'true',
    ALLOW_SIGNUP: 'true',
  };
  const servers: Managed[] = [];
  const cpuRoots: Record<string, number | undefined> = {};
  const serversReady = phase('servers', async () => {
    if (local) {
      // The proxy (a process of its own, so the load generator never delays the traffic it relays).
      const logFile = join(LOGS, 'proxy.log');
      writeFileSync(logFile, '');
      const proxy = spawnManaged('neon proxy', process.execPath,
        ['--import', 'tsx', join(projectRoot, 'bench', 'lib', 'proxy-server.ts'), String(proxyPort), String(pgPort), String(config.baseRttMs)],
        { cwd: projectRoot, logFile, env: { ...process.env, PROXY_SECRET: proxySecret } });
      servers.push(proxy);
      cpuRoots['stand-in'] = proxy.child.pid;
      await waitForPort(proxyPort!, 20_000);
      vars.DB_PROXY = `127.0.0.1:${proxyPort}/${proxySecret}`;
    }
    const varsFile = (name: string, extra: Record<string, string> = {}) => {
      const file = join(root, `${name}.vars`);
      writeFileSync(file, Object.entries({ ...vars, ...extra }).map(([k, v]) => `${k}='${v}'`).join('\n') + '\n', { mode: 0o600 });
      return file;
    };
    const envFile = varsFile('worker');
    const start = (name: string, configArgs: string[], port: number, inspector: number, env = envFile) => {
      const logFile = join(LOGS, `${name}.log`);
      writeFileSync(logFile, '');
      const proc = spawnManaged(`wrangler dev (${name})`, process.execPath,
        [WRANGLER, 'dev', ...configArgs, '--port', String(port), '--ip', '127.0.0.1', '--inspector-port', String(inspector),
          '--show-interactive-dev-session=false', '--env-file', env, '--persist-to', join(root, `state-${name}`)],
        { cwd: projectRoot, env: wranglerEnv(), logFile });
      servers.push(proc);
      return { proc, logFile };
    };
    const [appBuild, floorBuild] = await builds;
    const app = start('app', ['-c', configForBundle(appConfig, appBuild.main, join(root, 'run-app', 'wrangler.toml')), '--no-bundle'], appPort!, appInspector!);
    const floor = start('floor', ['-c', configForBundle(floorConfig, floorBuild.main, join(root, 'run-floor', 'wrangler.toml')), '--no-bundle'], floorPort!, floorInspector!);
    // The same bundle on the WebSocket transport, for the side-by-side figures.
    const appWs = start('app-ws', ['-c', configForBundle(appConfig, appBuild.main, join(root, 'run-app-ws', 'wrangler.toml')), '--no-bundle'],
      wsPort!, wsInspector!, varsFile('worker-ws', { DB_TRANSPORT: 'websocket' }));
    Object.assign(cpuRoots, { app: app.proc.child.pid, floor: floor.proc.child.pid, appWs: appWs.proc.child.pid });
    await Promise.all([
      waitForWorker(`http://127.0.0.1:${appPort}/health`, app.proc, app.logFile),
      waitForWorker(`http://127.0.0.1:${wsPort}/health`, appWs.proc, appWs.logFile),
      waitForWorker(`http://127.0.0.1:${floorPort}/noop`, floor.proc, floor.logFile),
    ]);
  });
  serversReady.catch(() => {}); // awaited below; this only keeps an early failure from being "unhandled"

  let stopPostgres = async () => {};
  if (!external) {
    await phase('postgres', async () => {
      const server = await startPostgres({ dataDir: join(root, 'pgdata'), port: pgPort!, password: pgPassword, fast: true });
      cpuRoots.postgres = childRunning(process.pid, 'postgres');
      const cancel = onShutdown('postgres', () => server.stop());
      stopPostgres = async () => {
        cancel();
        await server.stop();
      };
      const admin = new pg.Client({ connectionString: server.url('postgres') });
      await admin.connect();
      await admin.query('create database bench');
      await admin.end();
    });
  }
  await phase('migrate', async () => {
    migrate(dbUrl);
    await setRoleStatementTimeout(dbUrl);
  });
  // Refresh tokens for the refresh chain: one per connection per round, plus spares.
  const tokenPool = config.connections * (config.rounds + 1) + 10;
  const seeded: SeedResult = await phase('seed', async () => {
    const progress = progressPrinter();
    try {
      return await seed(dbUrl, { users: config.users, events: config.events, refreshTokens: tokenPool, onProgress: progress.update });
    } finally {
      progress.end();
    }
  });
  await serversReady;
  const base = { app: `http://127.0.0.1:${appPort}`, floor: `http://127.0.0.1:${floorPort}`, appWs: `http://127.0.0.1:${wsPort}` };
  const health = await fetch(`${base.app}/health`).then((r) => r.status).catch(() => 0);
  if (health !== 200) log(`warning: GET /health answered ${health}: database requests will fail`);

  const accounts = await prepareAccounts({ appUrl: base.app, dbUrl, seeded, connections: config.connections, note });
  const { ctx } = accounts;
  const requestFor = ({ endpoint: e, ...v }: Variant): LoadRequest => ({
    method: e.method,
    path: withTransport(typeof e.path === 'function' ? e.path(ctx) : e.path, { endpoint: e, ...v }),
    headers: e.auth && ctx.adminToken ? { authorization: `Bearer ${ctx.adminToken}` } : ({} as Record<string, string>),
    body: e.body ? () => e.body!(ctx) : undefined,
    perRequestHeaders: e.headers ? () => e.headers!(ctx) : undefined,
    onResponse: e.onResponse ? (status: number, text: string) => e.onResponse!(status, text, ctx) : undefined,
  });
  const run = (v: Variant, durationS: number, request = requestFor(v)) =>
    runLoad(base[v.worker], request, { connections: config.connections, durationS });

  // A request that does nothing (a 404 of the app, /noop of the floor), timed idle: settle() waits until it is that fast again.
  const settleUrl = { app: `${base.app}/bench-settle`, floor: `${base.floor}/noop`, appWs: `${base.appWs}/bench-settle` };
  const idleProbe = async (worker: WorkerName) => {
    const t = performance.now();
    await fetch(settleUrl[worker]).then((r) => r.arrayBuffer()).catch(() => undefined);
    return performance.now() - t;
  };
  const idle = { app: 0, floor: 0, appWs: 0 };
  for (const worker of ['app', 'floor', 'appWs'] as const) {
    const times: number[] = [];
    for (let i = 0; i < 7; i++) times.push(await idleProbe(worker));
    idle[worker] = median(times);
  }
  async function settle(worker: WorkerName) {
    const until = Date.now() + 8000;
    while (Date.now() < until) {
      if ((await idleProbe(worker)) < Math.max(10, 3 * idle[worker])) return;
      await sleep(50);
    }
  }

  let capture: Promise<DevtoolsCapture[]> | undefined;
  const captureOff = (floors: Variant[]) =>
    (capture ??= phase('devtools capture', async () => {
      const on: LoadResult[] = [];
      for (const v of floors) on.push(await run(v, config.durationS));
      await Promise.all([appInspector, floorInspector, wsInspector].map((port) => disableNetworkCapture(port!)));
      await settle('floor');
      const off: LoadResult[] = [];
      for (const v of floors) off.push(await run(v, config.durationS));
      return floors.map((v, i) => ({
        name: v.endpoint.name,
        transport: v.transport!,
        on: { rps: on[i]!.rps, p50: on[i]!.p50 },
        off: { rps: off[i]!.rps, p50: off[i]!.p50 },
      }));
    }));

  const [appBuild, floorBuild] = await builds;
  return {
    ...accounts,
    config,
    root,
    base,
    local,
    external,
    dbUrl,
    vars,
    seeded,
    builds: { app: appBuild, floor: floorBuild },
    variants,
    note,
    cpuRoots,
    idle,
    requestFor,
    run,
    settle,
    captureOff,
    proxyStats: async () =>
      local ? ((await fetch(proxyControl).then((r) => r.json()).catch(() => undefined)) as { roundTrips: number } | undefined) : undefined,
    setProxyRtt: (rttMs: number) => fetch(proxyControl, { method: 'POST', body: JSON.stringify({ rttMs }) }).then((r) => r.arrayBuffer()),
    stop: () =>
      phase('stop servers', async () => {
        await Promise.all(servers.map((s) => s.stop()));
        await stopPostgres();
      }),
  };
}
