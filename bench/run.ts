/**
 * `npm run bench [-- --quick] [--users N] [--events M] [--connections C] [--duration S] [--rounds R] [--only a,b]`
 *
 * 1. A throw-away PostgreSQL (unless DATABASE_URL is set), migrated and seeded with scripts/lib/seed.ts.
 * 2. The Neon-style WebSocket proxy (own process), the API under `wrangler dev` (workerd), and the bench-only floor
 *    Worker (bench/floor-worker.ts) under a second `wrangler dev`.
 * 3. Interleaved rounds (A B C … A B C …) of autocannon per endpoint of bench/endpoints.ts; the report keeps the
 *    median over rounds of req/s, p50, p99 and errors, plus statements per request from Server-Timing.
 * 4. Bundle size (wrangler deploy --dry-run), password hashes (Argon2id and scrypt) in workerd, the wall time of
 *    `npm run dev`.
 * Results go to bench/results/latest.json (git-ignored), server logs to bench/results/logs/.
 * Everything started is stopped at the end, on an error and on Ctrl-C.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { generateCursorSecret, generateSigningKey } from '../scripts/lib/keys';
import { migrate, projectRoot } from '../scripts/lib/migrate';
import { freePort, startPostgres } from '../scripts/lib/postgres';
import { setRoleStatementTimeout } from '../scripts/lib/statement-timeout';
import { BENCH_ADMIN_EMAIL, DEMO_PASSWORD, progressPrinter, seed, type SeedResult } from '../scripts/lib/seed';
import { endpoints, type BenchContext, type Endpoint } from './endpoints';
import { median, runLoad, type LoadResult } from './lib/load';
import { childRunning, cpuPerRequest, cpuSnapshot } from './lib/cpu';
import { disableNetworkCapture } from './lib/devtools';
import { measureStandInOverhead } from './lib/stand-in-overhead';
import { handleSignals, interrupted, onShutdown, shutdown, spawnManaged, type Managed } from './lib/processes';

const USAGE = `usage: npm run bench -- [--quick] [--users N] [--events M] [--connections C] [--duration S] [--rounds R] [--only a,b] [--rtts 0,20,80]
  --quick        1 round of 1.5 s per endpoint on 2,000 users / 10,000 events (under a minute)
  --users        seeded users (default 10,000)          --events    seeded audit events (default 100,000)
  --connections  concurrent connections (default 10)    --duration  seconds per endpoint per round (default 5)
  --rounds       interleaved rounds (default 3)         --only      endpoints whose name contains one of these
  --rtts         simulated database RTTs (ms) for the latency table (default 0,20,80; "" skips it)
Every API endpoint runs on both transports (HTTP, the default, and WebSocket: two Workers). DEV_DB_RTT_MS sets the
simulated RTT of the main table (default 0).
Set DATABASE_URL to bench against that database instead of a throw-away one: it gets migrated and its demo data
(users @demo.test, seeded audit rows) replaced.`;

const WRANGLER = join(projectRoot, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
const RESULTS = join(projectRoot, 'bench', 'results');
const LOGS = join(RESULTS, 'logs');
// OWASP password-storage settings of equal strength, both timed in workerd: the default (Argon2id, WebAssembly) and
// the scrypt setting of version 1 (node:crypto, native). Interleaved samples, medians.
const HASH_SCHEMES = ['argon2id:m=19456,t=2,p=1', 'N=16384,r=8,p=5'];
const HASH_SAMPLES = 10;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stderr.write(`${line}\n`);

function wranglerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    WRANGLER_SEND_METRICS: 'false',
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    FORCE_COLOR: '0',
    NO_COLOR: '1',
    // The Worker gets its settings from the generated vars file only.
    DATABASE_URL: undefined,
    ...extra,
  };
}

function tail(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

function waitForPort(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => (socket.destroy(), resolve()));
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > until) reject(new Error(`nothing listens on port ${port} after ${ms} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** Polls `url` until it answers at all (any status): the Worker is up. Fails early if the process dies or the build fails. */
async function waitForWorker(url: string, proc: Managed, logFile: string, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  let exited = false;
  void proc.exited.then(() => (exited = true));
  while (Date.now() < until) {
    if (exited) throw new Error(`wrangler dev exited before it served ${url}:\n${tail(logFile)}`);
    if (/Build failed|\[ERROR\] Could not resolve/.test(tail(logFile, 200))) {
      throw new Error(`wrangler dev could not build the Worker:\n${tail(logFile, 40)}`);
    }
    try {
      await fetch(url, { signal: AbortSignal.timeout(5000) });
      return;
    } catch {}
    await sleep(100);
  }
  throw new Error(`${url} did not answer within ${ms / 1000} s:\n${tail(logFile)}`);
}

function compatibilityDate(file: string): string | undefined {
  return /^\s*compatibility_date\s*=\s*"([^"]+)"/m.exec(readFileSync(file, 'utf8'))?.[1];
}

interface BundleSize {
  minified: boolean;
  files: { file: string; bytes: number; gzipBytes: number }[];
  bytes: number;
  gzipBytes: number;
  /** wrangler's own "Total Upload" line, for comparison. */
  wranglerSays?: string;
}

interface Build extends BundleSize {
  outdir: string;
  /** The Worker's entry module in `outdir`. */
  main: string;
}

const sizeOf = ({ minified, files, bytes, gzipBytes, wranglerSays }: BundleSize): BundleSize => ({ minified, files, bytes, gzipBytes, wranglerSays });

/** `wrangler deploy --dry-run --outdir`: the exact bundle a deploy would upload, measured raw and gzipped. */
async function build(root: string, name: string, config: string, minify = false): Promise<Build> {
  const outdir = join(root, `build-${name}`);
  const logFile = join(LOGS, `build-${name}.log`);
  writeFileSync(logFile, '');
  const proc = spawnManaged(`wrangler deploy --dry-run (${name})`, process.execPath,
    [WRANGLER, 'deploy', '--dry-run', '-c', config, '--outdir', outdir, ...(minify ? ['--minify'] : [])],
    { cwd: projectRoot, env: wranglerEnv(), logFile });
  const code = await proc.exited;
  await proc.stop();
  if (code !== 0) throw new Error(`wrangler deploy --dry-run -c ${config} failed (${code}):\n${tail(logFile, 30)}`);
  const files: BundleSize['files'] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(m?js|cjs)$/.test(entry)) {
        const data = readFileSync(path);
        files.push({ file: relative(outdir, path), bytes: data.length, gzipBytes: gzipSync(data).length });
      }
    }
  };
  walk(outdir);
  const main = files.find((f) => /^index\.m?js$/.test(f.file)) ?? files[0];
  if (!main) throw new Error(`wrangler deploy --dry-run left no .js file in ${outdir}`);
  return {
    outdir,
    main: join(outdir, main.file),
    minified: minify,
    files,
    bytes: files.reduce((sum, f) => sum + f.bytes, 0),
    gzipBytes: files.reduce((sum, f) => sum + f.gzipBytes, 0),
    wranglerSays: /Total Upload:[^\n]*/.exec(readFileSync(logFile, 'utf8'))?.[0]?.trim(),
  };
}

/**
 * A copy of a wrangler config whose `main` is a prebuilt bundle: `wrangler dev --no-bundle` then serves exactly what
 * was measured, and edits to src/ during the run cannot make it rebuild and reload the Worker mid-measurement.
 */
function configForBundle(source: string, bundle: string, target: string): string {
  const text = readFileSync(source, 'utf8');
  if (!/^main\s*=.*$/m.test(text)) throw new Error(`${source} has no main = line`);
  mkdirSync(join(target, '..'), { recursive: true });
  writeFileSync(
    target,
    `# Generated by bench/run.ts from ${relative(projectRoot, source)}, serving the bundle of wrangler deploy --dry-run.\n` +
      text
        .replace(/^main\s*=.*$/m, `main = ${JSON.stringify(bundle)}`)
        // Relative paths in the config (the console's static assets) are relative to the original's folder.
        .replace(/^directory\s*=\s*"\.\/(.*)"$/m, (_, dir: string) => `directory = ${JSON.stringify(join(dirname(source), dir))}`),
  );
  return target;
}

/**
 * Wall time of `npm run dev` on fresh ports and a fresh data folder until it prints "ready in", then Ctrl-C.
 * npm run dev rewrites .dev.vars with the ports it used: the developer's file is restored byte for byte afterwards.
 */
async function measureDevStart(root: string) {
  const devVars = join(projectRoot, '.dev.vars');
  const saved = existsSync(devVars) ? readFileSync(devVars) : undefined;
  const restore = () => {
    if (saved) writeFileSync(devVars, saved, { mode: 0o600 });
    else rmSync(devVars, { force: true });
  };
  const cancelRestore = onShutdown('restore .dev.vars', restore);
  const [port, pgPort, proxyPort] = await distinctFreePorts(3);
  const logFile = join(LOGS, 'npm-run-dev.log');
  writeFileSync(logFile, '');
  const started = performance.now();
  const proc = spawnManaged('npm run dev', 'npm', ['run', 'dev'], {
    cwd: projectRoot,
    env: {
      ...process.env,
      PORT: String(port),
      DEV_PG_PORT: String(pgPort),
      DEV_PROXY_PORT: String(proxyPort),
      DEV_PG_DATA: join(root, 'dev-pgdata'),
      DATABASE_URL: undefined,
      WRANGLER_SEND_METRICS: 'false',
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    },
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    writeFileSync(logFile, output);
  };
  proc.child.stdout!.on('data', collect);
  proc.child.stderr!.on('data', collect);
  try {
    let exited: number | string | undefined;
    void proc.exited.then((code) => (exited = code));
    const until = Date.now() + 120_000;
    while (!output.includes('ready in')) {
      if (exited !== undefined) throw new Error(`npm run dev exited (${exited}) before it was ready:\n${output.slice(-2000)}`);
      if (Date.now() > until) throw new Error(`npm run dev was not ready within 120 s:\n${output.slice(-2000)}`);
      await sleep(20);
    }
    const readyMs = performance.now() - started;
    const reported = /ready in ([\d.]+)s/.exec(output);
    const stopStarted = performance.now();
    await proc.stop('SIGINT', 15_000);
    return {
      readyMs: Math.round(readyMs),
      reportedS: reported ? Number(reported[1]) : null,
      stopMs: Math.round(performance.now() - stopStarted),
      exit: await proc.exited,
    };
  } finally {
    await proc.stop('SIGINT', 15_000);
    restore();
    cancelRestore();
  }
}

type Transport = 'http' | 'websocket';
type WorkerName = Endpoint['worker'] | 'appWs';

/** One endpoint on one transport: API endpoints and the db floor run on both, the runtime floor once. */
interface Variant {
  endpoint: Endpoint;
  worker: WorkerName;
  transport?: Transport;
}

function variantsOf(e: Endpoint): Variant[] {
  if (e.floor === 'runtime') return [{ endpoint: e, worker: e.worker }];
  if (e.worker === 'floor') return [{ endpoint: e, worker: 'floor', transport: 'http' }, { endpoint: e, worker: 'floor', transport: 'websocket' }];
  return [{ endpoint: e, worker: 'app', transport: 'http' }, { endpoint: e, worker: 'appWs', transport: 'websocket' }];
}

/** The floor Worker picks its transport per request (bench-only code); the API has one Worker per transport. */
const withTransport = (path: string, v: Variant) =>
  v.worker === 'floor' && v.transport ? `${path}${path.includes('?') ? '&' : '?'}transport=${v.transport}` : path;

/** Endpoints of the latency table (p50 per simulated RTT and transport). */
const LATENCY_ENDPOINTS = ['select 1 (db floor)', 'GET /health', 'GET /v1/me', 'GET /v1/users', 'GET /v1/users/:id'];

interface EndpointReport {
  name: string;
  worker: WorkerName;
  transport?: Transport;
  /** CPU ms per response by `<process tree>:<program>` (lib/cpu.ts), median over rounds. */
  cpuMsPerRequest?: Record<string, number>;
  /** Database round trips per request, as charged by the stand-in's latency model (TCP/TLS/upgrade included). */
  roundTripsPerRequest?: number | null;
  method: string;
  path: string;
  note?: string;
  floor?: Endpoint['floor'];
  rounds: LoadResult[];
  /** 2xx answers by the statement count their Server-Timing reported (all rounds). */
  statements: Record<string, number>;
  /** The most common of those: statements per request. */
  statementsPerRequest?: number | null;
  median?: { rps: number; p50: number; p99: number; errors: number; non2xx: number; socketErrors: number };
  statuses: Record<string, number>;
  p50OverDbFloor?: number;
}

const label = (r: { name: string; transport?: Transport }) => (r.transport ? `${r.name} [${r.transport === 'http' ? 'http' : 'ws'}]` : r.name);

function count(name: string, text: string | undefined, fallback: number, min = 1): number {
  if (text === undefined) return fallback;
  const value = Number(text.replace(/[_,]/g, ''));
  if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be a number ≥ ${min}, not ${text}`);
  return value;
}

async function main() {
  // The analytics mode (bench/analytics.ts) measures SQL at scale on its own kept database; nothing else runs.
  if (process.argv.includes('--analytics')) return (await import('./analytics')).main(process.argv.slice(2));
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      users: { type: 'string' },
      events: { type: 'string' },
      connections: { type: 'string' },
      duration: { type: 'string' },
      rounds: { type: 'string' },
      only: { type: 'string' },
      rtts: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const quick = values.quick!;
  const config = {
    quick,
    users: Math.floor(count('users', values.users, quick ? 2_000 : 10_000, 100)),
    events: Math.floor(count('events', values.events, quick ? 10_000 : 100_000, 0)),
    connections: Math.floor(count('connections', values.connections, 10)),
    durationS: count('duration', values.duration, quick ? 1.5 : 5, 0.5),
    rounds: Math.floor(count('rounds', values.rounds, quick ? 1 : 3)),
    baseRttMs: count('DEV_DB_RTT_MS', process.env.DEV_DB_RTT_MS, 0, 0),
    rtts: (values.rtts ?? '0,20,80').split(',').filter((x) => x.trim() !== '').map((x) => count('rtts', x.trim(), 0, 0)),
  };
  const only = values.only?.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const selected = endpoints.filter((e) => e.floor || !only || only.some((o) => e.name.toLowerCase().includes(o)));

  const benchStarted = performance.now();
  const phases: Record<string, number> = {};
  const phase = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await work();
    } finally {
      phases[name] = Math.round(performance.now() - t);
    }
  };

  mkdirSync(LOGS, { recursive: true });
  const root = mkdtempSync(join(os.tmpdir(), 'dashboard-bench-'));
  chmodSync(root, 0o755); // the postgres user must reach the data folders inside
  onShutdown('remove temporary folder', () => rmSync(root, { recursive: true, force: true }));

  const appDate = compatibilityDate(join(projectRoot, 'wrangler.toml'));
  const floorDate = compatibilityDate(join(projectRoot, 'bench', 'wrangler.floor.toml'));
  if (appDate !== floorDate) log(`warning: bench/wrangler.floor.toml has compatibility_date ${floorDate}, wrangler.toml ${appDate}: align them`);

  log(`bench: ${config.users.toLocaleString('en-US')} users, ${config.events.toLocaleString('en-US')} events, ` +
    `${config.connections} connections, ${config.durationS} s × ${selected.length} endpoints × ${config.rounds} round(s)`);

  // Both Workers run from bundles built up front (the API's is also the one whose size is reported).
  const appConfig = join(projectRoot, 'wrangler.toml');
  const floorConfig = join(projectRoot, 'bench', 'wrangler.floor.toml');
  const builds = phase('build', () => Promise.all([build(root, 'app', appConfig), build(root, 'floor', floorConfig)]));
  builds.catch(() => {}); // awaited below
  // The minified size is only reported (its failure is not the run's): settled into a value or an error.
  const minified: Promise<BundleSize | { minified: true; error: string }> | undefined = quick
    ? undefined
    : build(root, 'app-minified', appConfig, true).then(
        (b) => sizeOf(b),
        (error: Error) => ({ minified: true, error: error.message.split('\n')[0]! }),
      );

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
  // Process trees whose CPU per request is reported (lib/cpu.ts).
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
    // The same bundle on the WebSocket transport (the design before issue 11), for the side-by-side figures.
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

  // --- Context: accounts, tokens, cursors.
  const db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
  const enabled = (
    await db.query<{ id: number; email: string }>(
      `select id, email from users where email ~ '^user[0-9]+@demo[.]test$' and not disabled order by id`,
    )
  ).rows;
  await db.end();
  const refreshUsers = enabled.slice(0, Math.min(200, Math.floor(enabled.length / 4)));
  const loginUsers = enabled.slice(refreshUsers.length, -1);
  let loginIndex = 0;
  let refreshIndex = 0;
  let clientIndex = 0;
  const ctx: BenchContext = {
    password: DEMO_PASSWORD,
    nextLoginEmail: () => loginUsers[loginIndex++ % loginUsers.length]!.email,
    refreshTokens: [],
    sampleUserId: enabled[Math.floor(enabled.length / 2)]!.id,
    roleTargetId: enabled[enabled.length - 1]!.id,
    deepOffset: 0,
    nextClientIp: () => {
      clientIndex = (clientIndex % 131_070) + 1;
      return `198.${18 + (clientIndex >> 16)}.${(clientIndex >> 8) & 255}.${clientIndex & 255}`;
    },
  };

  const post = async (path: string, body: unknown) => {
    try {
      const res = await fetch(`${base.app}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'cf-connecting-ip': ctx.nextClientIp() },
        body: JSON.stringify(body),
      });
      const json = (await res.json().catch(() => ({}))) as { accessToken?: string; refreshToken?: string };
      return { status: res.status, ...json };
    } catch {
      return { status: 0 } as { status: number; accessToken?: string; refreshToken?: string };
    }
  };
  const login = (email: string) => post('/v1/auth/login', { email, password: DEMO_PASSWORD });
  const problems: string[] = [];
  const note = (problem: string) => {
    if (!problems.includes(problem)) problems.push(problem);
    log(`note: ${problem}`);
  };

  // The seeded tokens are stored the way the Worker stores them today; if that changes, sign in for tokens instead.
  const probe = seeded.refreshTokens[0] ? await post('/v1/auth/refresh', { refreshToken: seeded.refreshTokens[0] }) : undefined;
  if (probe?.refreshToken) ctx.refreshTokens.push(probe.refreshToken, ...seeded.refreshTokens.slice(1));
  else note(`a seeded refresh token was refused (${probe?.status}): the refresh chain starts from sign-ins instead`);

  async function prepareRound(first: boolean) {
    const admin = await login(BENCH_ADMIN_EMAIL);
    ctx.adminToken = admin.accessToken;
    if (!ctx.adminToken) note(`admin sign-in (POST /v1/auth/login) answered ${admin.status}: authenticated endpoints run without a token`);
    // The refresh chain needs one unused token per connection, plus spares for answers that break it
    // (each sign-in costs a password hash).
    const wanted = config.connections + 2;
    while (ctx.refreshTokens.length < wanted && refreshUsers.length > 0) {
      const pair = await login(refreshUsers[refreshIndex++ % refreshUsers.length]!.email);
      if (!pair.refreshToken) {
        note(`sign-in for refresh tokens answered ${pair.status}: POST /v1/auth/refresh will fail`);
        break;
      }
      ctx.refreshTokens.push(pair.refreshToken);
    }
    if (first && ctx.adminToken) {
      // A deep page: walk ~20 pages of 100 and keep the last cursor.
      let cursor: string | undefined;
      let offset = 0;
      for (let page = 0; page < 20; page++) {
        const res = await fetch(`${base.app}/v1/users?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, {
          headers: { authorization: `Bearer ${ctx.adminToken}` },
        }).catch(() => undefined);
        if (!res?.ok) {
          note(`walking GET /v1/users?limit=100 answered ${res?.status ?? 'no response'} on page ${page + 1}`);
          break;
        }
        const body = (await res.json()) as { data?: unknown[]; nextCursor?: string | null };
        offset += body.data?.length ?? 0;
        if (!body.nextCursor) break;
        cursor = body.nextCursor;
      }
      ctx.deepCursor = cursor;
      ctx.deepOffset = offset;
      if (!cursor) note('no cursor for the deep users page: that endpoint will answer errors');
    }
  }

  const requestFor = (e: Endpoint) => ({
    method: e.method,
    path: typeof e.path === 'function' ? e.path(ctx) : e.path,
    headers: e.auth && ctx.adminToken ? { authorization: `Bearer ${ctx.adminToken}` } : ({} as Record<string, string>),
    body: e.body ? () => e.body!(ctx) : undefined,
    perRequestHeaders: e.headers ? () => e.headers!(ctx) : undefined,
    onResponse: e.onResponse ? (status: number, text: string) => e.onResponse!(status, text, ctx) : undefined,
  });

  /**
   * Work still queued in workerd (e.g. sign-ins hashing) must not spill into the next endpoint's run: wait until a
   * request that does nothing (a 404 of the app, /noop of the floor) is answered about as fast as when idle.
   */
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

  const variants = selected.flatMap(variantsOf);
  const reports: EndpointReport[] = variants.map(({ endpoint: e, worker, transport }) => ({
    name: e.name,
    worker,
    transport,
    method: e.method,
    path: typeof e.path === 'function' ? '(computed)' : e.path,
    note: e.note,
    floor: e.floor,
    rounds: [],
    statuses: {},
    statements: {},
  }));

  // --- One password hash inside workerd, while nothing else runs (before the load, after the builds).
  await minified;
  log(`timing ${HASH_SAMPLES} password hashes in workerd…`);
  const hash = await phase('hash', async () => {
    const samples = new Map(HASH_SCHEMES.map((p) => [p, { inWorker: [] as number[], roundTrip: [] as number[] }]));
    for (let i = 0; i <= HASH_SAMPLES; i++) {
      for (const params of HASH_SCHEMES) {
        const t = performance.now();
        const res = await fetch(`${base.floor}/hash?params=${encodeURIComponent(params)}`).catch(() => undefined);
        const ms = performance.now() - t;
        const body = res?.ok ? ((await res.json()) as { ms: number }) : undefined;
        if (!body) return [{ params, error: `GET /hash answered ${res?.status ?? 'nothing'}` }];
        if (i === 0) continue; // warm-up (and the Argon2 module's instantiation)
        samples.get(params)!.inWorker.push(body.ms);
        samples.get(params)!.roundTrip.push(ms);
      }
    }
    return [...samples].map(([params, s]) => ({ params, samples: HASH_SAMPLES, medianMs: median(s.inWorker), roundTripMedianMs: median(s.roundTrip), inWorkerMs: s.inWorker }));
  });

  // --- wrangler dev's DevTools network capture (see lib/devtools.ts): the db floors with it, then it goes off for good.
  const devtoolsCapture = await phase('devtools capture', async () => {
    const floors = variants.filter((v) => v.endpoint.floor === 'db');
    const run = (v: Variant) => {
      const request = requestFor(v.endpoint);
      request.path = withTransport(request.path, v);
      return runLoad(base.floor, request, { connections: config.connections, durationS: config.durationS });
    };
    const on: LoadResult[] = [];
    for (const v of floors) on.push(await run(v));
    await Promise.all([appInspector, floorInspector, wsInspector].map((port) => disableNetworkCapture(port!)));
    await settle('floor');
    const off: LoadResult[] = [];
    for (const v of floors) off.push(await run(v));
    return floors.map((v, i) => ({
      name: v.endpoint.name,
      transport: v.transport!,
      on: { rps: on[i]!.rps, p50: on[i]!.p50 },
      off: { rps: off[i]!.rps, p50: off[i]!.p50 },
    }));
  });
  for (const c of devtoolsCapture) {
    log(`devtools network capture, ${c.name} [${c.transport}]: on ${c.on.rps.toFixed(0)} req/s p50 ${c.on.p50.toFixed(1)} ms → ` +
      `off ${c.off.rps.toFixed(0)} req/s p50 ${c.off.p50.toFixed(1)} ms`);
  }

  const roundTrips: number[][] = variants.map(() => []);
  const cpu: Record<string, number>[][] = variants.map(() => []);
  const proxyStats = async (): Promise<{ roundTrips: number } | undefined> =>
    local ? ((await fetch(proxyControl).then((r) => r.json()).catch(() => undefined)) as { roundTrips: number } | undefined) : undefined;
  const setProxyRtt = (rttMs: number) => fetch(proxyControl, { method: 'POST', body: JSON.stringify({ rttMs }) }).then((r) => r.arrayBuffer());
  let settleMs = 0;
  let prepareMs = 0;
  let runOverheadMs = 0;
  await phase('load', async () => {
    for (let round = 1; round <= config.rounds; round++) {
      const prepStarted = performance.now();
      await prepareRound(round === 1);
      prepareMs += performance.now() - prepStarted;
      for (const [i, v] of variants.entries()) {
        const e = v.endpoint;
        const report = reports[i]!;
        const request = requestFor(e);
        request.path = withTransport(request.path, v);
        report.path = request.path;
        const durationS = Math.max(config.durationS, e.minDurationS ?? 0);
        const runStarted = performance.now();
        const before = await proxyStats();
        const cpuBefore = { ...cpuSnapshot(cpuRoots), 'bench:load': process.cpuUsage().user / 1000 + process.cpuUsage().system / 1000 };
        const result = await runLoad(base[v.worker], request, { connections: config.connections, durationS });
        const cpuAfter = { ...cpuSnapshot(cpuRoots), 'bench:load': process.cpuUsage().user / 1000 + process.cpuUsage().system / 1000 };
        cpu[i]!.push(cpuPerRequest(cpuBefore, cpuAfter, result.responses));
        const after = await proxyStats();
        runOverheadMs += performance.now() - runStarted - durationS * 1000;
        report.rounds.push(result);
        if (before && after && result.responses > 0) roundTrips[i]!.push((after.roundTrips - before.roundTrips) / result.responses);
        for (const [status, n] of Object.entries(result.statuses)) report.statuses[status] = (report.statuses[status] ?? 0) + n;
        for (const [k, n] of Object.entries(result.statements)) report.statements[k] = (report.statements[k] ?? 0) + n;
        log(`[round ${round}/${config.rounds}] ${label(report).padEnd(40)} ${result.rps.toFixed(0).padStart(6)} req/s  ` +
          `p50 ${result.p50.toFixed(1).padStart(6)} ms  p99 ${result.p99.toFixed(1).padStart(7)} ms  errors ${result.errors}`);
        if (round === 1 && result.responses > 0 && result.statuses['404'] === result.responses) note(`${e.name} answered only 404 (route missing?)`);
        const last = round === config.rounds && i === variants.length - 1;
        if (!last) {
          const t = performance.now();
          await settle(v.worker);
          settleMs += performance.now() - t;
        }
      }
    }
  });
  for (const [i, r] of reports.entries()) {
    r.roundTripsPerRequest = roundTrips[i]!.length ? median(roundTrips[i]!) : null;
    const keys = [...new Set(cpu[i]!.flatMap((c) => Object.keys(c)))].sort();
    r.cpuMsPerRequest = Object.fromEntries(keys.map((k) => [k, median(cpu[i]!.map((c) => c[k] ?? 0))]));
  }

  // --- Latency table: p50 per simulated RTT, both transports, a few endpoints (the stand-in's RTT is set live).
  const latency: { rttMs: number; name: string; transport: Transport; p50: number; rps: number; roundTripsPerRequest: number | null; errors: number }[] = [];
  if (local && config.rtts.length) {
    await phase('latency table', async () => {
      await prepareRound(false);
      const chosen = variants.filter((v) => v.transport && LATENCY_ENDPOINTS.includes(v.endpoint.name));
      for (const rtt of config.rtts) {
        await setProxyRtt(rtt);
        for (const v of chosen) {
          const request = requestFor(v.endpoint);
          request.path = withTransport(request.path, v);
          const before = await proxyStats();
          const result = await runLoad(base[v.worker], request, { connections: config.connections, durationS: Math.max(config.durationS, rtt ? 2 : 0) });
          const after = await proxyStats();
          const perRequest = before && after && result.responses ? (after.roundTrips - before.roundTrips) / result.responses : null;
          latency.push({ rttMs: rtt, name: v.endpoint.name, transport: v.transport!, p50: result.p50, rps: result.rps, roundTripsPerRequest: perRequest, errors: result.errors });
          log(`[rtt ${String(rtt).padStart(3)} ms] ${`${v.endpoint.name} [${v.transport}]`.padEnd(40)} p50 ${result.p50.toFixed(1).padStart(7)} ms  ` +
            `${perRequest === null ? '–' : perRequest.toFixed(2)} round trips/request  errors ${result.errors}`);
          await settle(v.worker);
        }
      }
      await setProxyRtt(config.baseRttMs);
    });
  }

  // --- The stand-in's own cost: `select 1` through it (neon() over HTTP) against a direct pooled pg connection.
  const standIn = local ? await phase('stand-in overhead', () => measureStandInOverhead(dbUrl, vars.DB_PROXY!, [...new Set([1, config.connections])])) : undefined;
  for (const r of reports) {
    r.median = {
      rps: median(r.rounds.map((x) => x.rps)),
      p50: median(r.rounds.map((x) => x.p50)),
      p99: median(r.rounds.map((x) => x.p99)),
      errors: median(r.rounds.map((x) => x.errors)),
      non2xx: median(r.rounds.map((x) => x.non2xx)),
      socketErrors: median(r.rounds.map((x) => x.socketErrors)),
    };
  }
  for (const r of reports) {
    const top = Object.entries(r.statements).sort((a, b) => b[1] - a[1])[0];
    r.statementsPerRequest = top ? (top[0] === 'none' ? 0 : Number(top[0])) : null;
  }
  // Each transport against its own db floor (select 1 over the same transport).
  const dbFloorOf = (t?: Transport) => reports.find((r) => r.floor === 'db' && r.transport === (t ?? 'http'))?.median?.p50;
  const dbFloor = dbFloorOf('http');
  for (const r of reports) {
    const floor = dbFloorOf(r.transport);
    if (floor && r.median) r.p50OverDbFloor = r.median.p50 / floor;
  }

  phases['settle (part of load)'] = Math.round(settleMs);
  phases['prepare rounds (part of load)'] = Math.round(prepareMs);
  phases['autocannon start/stop (part of load)'] = Math.round(runOverheadMs);

  // --- Stop the load servers before timing npm run dev, so it does not compete with them.
  await phase('stop servers', async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await stopPostgres();
  });

  const bundle = [sizeOf((await builds)[0]), ...(minified ? [await minified] : [])];
  log('timing npm run dev (fresh ports and data folder) until "ready in", then Ctrl-C…');
  const dev = await phase('npm run dev', () => measureDevStart(root).catch((error: Error) => ({ error: error.message })));

  // --- Report.
  const result = {
    startedAt: new Date(Date.now() - (performance.now() - benchStarted)).toISOString(),
    finishedAt: new Date().toISOString(),
    config: { ...config, only: only ?? null },
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      wrangler: JSON.parse(readFileSync(join(projectRoot, 'node_modules', 'wrangler', 'package.json'), 'utf8')).version as string,
      loadAverage: os.loadavg(),
    },
    database: external ? 'DATABASE_URL' : 'throw-away embedded PostgreSQL (fsync off)',
    compatibilityDate: { app: appDate, floor: floorDate },
    seed: { ...seeded, password: undefined, refreshTokens: seeded.refreshTokens.length },
    context: { deepCursorAfterRows: ctx.deepOffset, sampleUserId: ctx.sampleUserId, roleTargetId: ctx.roleTargetId, idleProbeMs: idle },
    endpoints: reports,
    latency,
    standIn,
    devtoolsCapture,
    floors: {
      runtimeP50: reports.find((r) => r.floor === 'runtime')?.median?.p50 ?? null,
      dbP50: dbFloor ?? null,
    },
    bundle,
    passwordHash: hash,
    npmRunDev: dev,
    problems,
    phasesMs: phases,
    totalMs: Math.round(performance.now() - benchStarted),
  };
  writeFileSync(join(RESULTS, 'latest.json'), JSON.stringify(result, null, 2) + '\n');
  printReport(result);
}

function printReport(r: {
  endpoints: EndpointReport[];
  latency: { rttMs: number; name: string; transport: Transport; p50: number; roundTripsPerRequest: number | null; errors: number }[];
  standIn?: Awaited<ReturnType<typeof measureStandInOverhead>>;
  devtoolsCapture: { name: string; transport: Transport; on: { rps: number; p50: number }; off: { rps: number; p50: number } }[];
  bundle: (BundleSize | { minified: boolean; error: string })[];
  passwordHash: { medianMs?: number; roundTripMedianMs?: number; params: string; error?: string }[];
  npmRunDev: { readyMs?: number; reportedS?: number | null; stopMs?: number; error?: string };
  config: { rounds: number; durationS: number; connections: number; users: number; events: number };
  seed: { ms: number };
  problems: string[];
  totalMs: number;
}) {
  const fmt = (x: number | undefined | null, digits = 1) => (x === undefined || x === null || !Number.isFinite(x) ? '–' : x.toFixed(digits));
  const rows = r.endpoints.map((e) => {
    const statuses = Object.entries(e.statuses).sort((a, b) => b[1] - a[1]);
    const status = statuses.length ? statuses.map(([s]) => s).slice(0, 2).join('/') : '–';
    return [
      label(e),
      status,
      fmt(e.median?.rps, 0),
      fmt(e.median?.p50, 2),
      fmt(e.median?.p99, 2),
      fmt(e.median?.errors, 0),
      e.statementsPerRequest === null || e.statementsPerRequest === undefined ? '–' : String(e.statementsPerRequest),
      fmt(e.roundTripsPerRequest, 2),
      fmt(e.p50OverDbFloor, 2),
    ];
  });
  const header = ['endpoint', 'status', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'stmts/req', 'db RT/req', 'p50 ÷ db floor'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log('');
  console.log(`Median of ${r.config.rounds} round(s) × ${r.config.durationS} s, ${r.config.connections} connections; ` +
    `${r.config.users.toLocaleString('en-US')} users / ${r.config.events.toLocaleString('en-US')} events (seeded in ${(r.seed.ms / 1000).toFixed(1)} s)`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
  console.log('');
  // HTTP against WebSocket (the design before issue 11) on every API endpoint, from the same run.
  const ratios = r.endpoints
    .filter((e) => e.transport === 'http' && e.worker === 'app')
    .map((e) => ({ e, ws: r.endpoints.find((w) => w.name === e.name && w.transport === 'websocket') }))
    .filter(({ e, ws }) => e.median && ws?.median && ws.median.rps > 0)
    .map(({ e, ws }) => `${e.name} ${(e.median!.rps / ws!.median!.rps).toFixed(2)}×`);
  if (ratios.length) console.log(`req/s, HTTP ÷ WebSocket: ${ratios.join(', ')}\n`);
  // CPU per request by process: the Worker's workerd, wrangler's Node process, the stand-in, PostgreSQL, autocannon.
  const cpuRows = r.endpoints.filter((e) => e.cpuMsPerRequest && Object.keys(e.cpuMsPerRequest).length).map((e) => {
    const c = e.cpuMsPerRequest!;
    const cells = [c[`${e.worker}:workerd`], c[`${e.worker}:node`], c['stand-in:node'], c['postgres:postgres'], c['bench:load']];
    return [label(e), ...cells.map((x) => fmt(x ?? 0, 2)), fmt(Object.values(c).reduce((a, b) => a + b, 0), 2)];
  });
  if (cpuRows.length) {
    const head = ['CPU ms per request', 'workerd', 'wrangler', 'stand-in', 'postgres', 'load gen', 'all'];
    const w = head.map((h, i) => Math.max(h.length, ...cpuRows.map((row) => row[i]!.length)));
    const ln = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
    console.log(ln(head));
    for (const row of cpuRows) console.log(ln(row));
    console.log('');
  }
  if (r.latency.length) {
    const rtts = [...new Set(r.latency.map((l) => l.rttMs))];
    const names = [...new Set(r.latency.map((l) => l.name))];
    const cell = (name: string, t: Transport, rtt: number) => {
      const l = r.latency.find((x) => x.name === name && x.transport === t && x.rttMs === rtt);
      return l ? `${fmt(l.p50, 1)} (${fmt(l.roundTripsPerRequest, 1)})` : '–';
    };
    const head = ['p50 ms (db round trips/request)', ...rtts.flatMap((rtt) => [`http @${rtt}`, `ws @${rtt}`])];
    const body = names.map((n) => [n, ...rtts.flatMap((rtt) => [cell(n, 'http', rtt), cell(n, 'websocket', rtt)])]);
    const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
    const ln = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
    console.log('Simulated Worker↔database RTT (DEV_DB_RTT_MS model of the stand-in):');
    console.log(ln(head));
    for (const b of body) console.log(ln(b));
    console.log('');
  }
  for (const o of r.standIn ?? []) {
    const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(0)} %`;
    const way = (w: { p50: number; perSecond: number }) => `p50 ${fmt(w.p50, 3)} ms (${w.perSecond}/s)`;
    console.log(`Stand-in overhead, select 1 from Node, ${o.connections} concurrent: direct pg.Pool ${way(o.direct)}; ` +
      `through the stand-in (node:http keep-alive) ${way(o.standIn)}, ${pct(o.p50Overhead)}; hop floor (canned /sql, no PostgreSQL) ` +
      `${way(o.hop)}, ${pct(o.hopP50Overhead)}; the stand-in's own cost above the hop ${pct(o.ownOverhead)}; via neon() (Node fetch) ${way(o.viaDriver)}`);
  }
  if (r.devtoolsCapture.length) {
    console.log(`wrangler dev's DevTools network capture (on by default; off for every figure above): ` +
      r.devtoolsCapture.map((c) => `${c.name} [${c.transport === 'http' ? 'http' : 'ws'}] ${fmt(c.on.rps, 0)} → ${fmt(c.off.rps, 0)} req/s, ` +
        `p50 ${fmt(c.on.p50, 1)} → ${fmt(c.off.p50, 1)} ms`).join('; '));
  }
  const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
  for (const b of r.bundle) {
    const label = `${b.minified ? 'Bundle, minified' : 'Bundle'} (wrangler deploy --dry-run)`;
    if ('error' in b) console.log(`${label}: failed: ${b.error}`);
    else console.log(`${label}: ${kib(b.bytes)} raw, ${kib(b.gzipBytes)} gzip (${b.files.map((f) => f.file).join(', ')})`);
  }
  for (const h of r.passwordHash) {
    console.log(h.error ? `Password hash ${h.params}: ${h.error}`
      : `Password hash (${h.params}) in workerd: ${fmt(h.medianMs, 0)} ms median of ${HASH_SAMPLES} (request round trip ${fmt(h.roundTripMedianMs, 0)} ms)`);
  }
  const d = r.npmRunDev;
  console.log(d.error ? `npm run dev: ${d.error.split('\n')[0]}`
    : `npm run dev: ready in ${fmt((d.readyMs ?? 0) / 1000, 1)} s wall (it reported ${fmt(d.reportedS, 1)} s); stopped ${fmt((d.stopMs ?? 0) / 1000, 1)} s after Ctrl-C`);
  if (r.problems.length) console.log(`Problems: ${r.problems.join('; ')}`);
  console.log(`Total ${(r.totalMs / 1000).toFixed(1)} s. Full results: bench/results/latest.json, logs: bench/results/logs/`);
}

handleSignals();
main()
  .then(async () => {
    await shutdown();
    process.exit(0);
  })
  .catch(async (error) => {
    if (interrupted()) return; // the signal handler is already stopping everything and will exit
    log(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
    await shutdown();
    process.exit(1);
  });
