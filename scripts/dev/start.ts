/**
 * `npm run dev`: PostgreSQL (unless DATABASE_URL is set), migrations, the local stand-in for Neon's WebSocket proxy,
 * a local admin, then `wrangler dev`. Ctrl-C stops everything it started. A DATABASE_URL that is not on loopback is
 * treated with care (scripts/dev/plan.ts): no account is touched without `--create-admin`, and its URL is not
 * saved. With `--oidc`, a local OpenID provider too (scripts/dev/oidc.ts, docs/sso.md). With `--no-devtools-capture`
 * (or DEV_DEVTOOLS_CAPTURE=off), wrangler's DevTools network capture is off, for production-like timings.
 * Usage: `npm run dev [-- --create-admin] [-- --oidc] [-- --no-devtools-capture]`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ensureAdmin } from '../admin/ensure-admin';
import { DEV_OIDC_TEST_USER, startDevOidc } from './oidc';
import { devPlan, LOCAL_OVERRIDES, varsToSave } from './plan';
import { readDevVars, writeDevVars } from './vars';
import { generateCursorSecret, generateMfaKey, generateSigningKey } from './keys';
import { migrate, projectRoot } from './migrate';
import { defaultDataDir, freePort, portFree, startPostgres, type RunningPostgres } from './postgres';
import { startProxy, targetOf, type RunningProxy } from '../stand-ins/neon-proxy';
import { setRoleStatementTimeout } from './statement-timeout';
import { disableNetworkCapture } from './devtools';

const PORT = Number(process.env.PORT ?? 8787);
const PG_PORT = Number(process.env.DEV_PG_PORT ?? 54329);
const PROXY_PORT = Number(process.env.DEV_PROXY_PORT ?? 54330);
const OIDC_PORT = Number(process.env.DEV_OIDC_PORT ?? 54331);
// Simulated round-trip time between the Worker and the database, applied by the stand-in to every exchange.
const DB_RTT_MS = Number(process.env.DEV_DB_RTT_MS ?? 0);
if (!(DB_RTT_MS >= 0)) throw new Error(`DEV_DB_RTT_MS must be a number of milliseconds ≥ 0, not ${process.env.DEV_DB_RTT_MS}`);
// wrangler dev records every outbound fetch of the Worker for DevTools' network tab, ~4 ms of CPU per database
// statement (scripts/dev/devtools.ts): off, local timings are production-like (docs/performance.md).
const NO_CAPTURE = process.argv.includes('--no-devtools-capture') || process.env.DEV_DEVTOOLS_CAPTURE === 'off';
const started = performance.now();

let postgres: RunningPostgres | undefined;
let proxy: RunningProxy | undefined;
let wrangler: ChildProcess | undefined;
let stopping = false;
let privateEnvDir: string | undefined;
let oidc: Awaited<ReturnType<typeof startDevOidc>> | undefined;

async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  if (wrangler?.pid && wrangler.exitCode === null) {
    // wrangler spawns workerd: signal the whole group so nothing keeps the port.
    try {
      process.kill(-wrangler.pid, 'SIGTERM');
    } catch {}
    await new Promise((r) => {
      const t = setTimeout(() => {
        try {
          process.kill(-wrangler!.pid!, 'SIGKILL');
        } catch {}
        r(undefined);
      }, 5000);
      wrangler!.once('exit', () => (clearTimeout(t), r(undefined)));
    });
  }
  await proxy?.close();
  await oidc?.provider.close();
  await postgres?.stop();
  if (privateEnvDir) rmSync(privateEnvDir, { recursive: true, force: true });
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
process.on('SIGHUP', () => void stop(0));

async function ensureDatabase(adminUrl: string, name: string) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`create database "${name}"`);
  } finally {
    await client.end();
  }
}

async function main() {
  if (!(await portFree(PORT))) throw new Error(`port ${PORT} is taken: set PORT to another one`);
  const plan = devPlan(process.env.DATABASE_URL, process.argv.slice(2));
  const vars = readDevVars();
  vars.JWT_PRIVATE_KEY ??= await generateSigningKey();
  vars.CURSOR_SECRET ??= generateCursorSecret();
  vars.MFA_ENCRYPTION_KEY ??= generateMfaKey();
  for (const [key, value] of Object.entries(LOCAL_OVERRIDES)) vars[key] ??= value;
  vars.LOCAL_ADMIN_EMAIL ??= 'admin@localhost.test';
  vars.LOCAL_ADMIN_PASSWORD ??= randomBytes(18).toString('base64url');
  vars.SERVER_TIMING ??= 'true';

  let databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) {
    console.log('Using DATABASE_URL from the environment; no local PostgreSQL started.');
    if (plan.database === 'remote') {
      console.log(
        `  It is not on this machine: migrations run, but ${plan.touchAccounts ? 'the local admin is created (--create-admin)' : 'no account is created or changed (pass --create-admin for the local admin)'}, and the URL is not saved in .dev.vars.`,
      );
    }
    delete vars.DB_PROXY;
  } else {
    vars.LOCAL_PG_PASSWORD ??= randomBytes(18).toString('base64url');
    // Saved before initdb uses it, so a failed first start cannot orphan a data folder with an unknown password.
    writeDevVars(varsToSave(vars, plan));
    const dataDir = process.env.DEV_PG_DATA ?? defaultDataDir(projectRoot);
    postgres = await startPostgres({ dataDir, port: PG_PORT, password: vars.LOCAL_PG_PASSWORD });
    await ensureDatabase(postgres.url('postgres'), 'dashboard');
    databaseUrl = postgres.url('dashboard');
    await setRoleStatementTimeout(databaseUrl);
    proxy = await startProxy({ target: targetOf(databaseUrl), port: PROXY_PORT, rttMs: DB_RTT_MS });
    vars.DB_PROXY = proxy.address;
    console.log(`PostgreSQL on 127.0.0.1:${PG_PORT} (data in ${dataDir}), stand-in for Neon's proxy (HTTP and WebSocket) on 127.0.0.1:${proxy.port}${DB_RTT_MS ? `, simulated database RTT ${DB_RTT_MS} ms` : ''}`);
  }
  vars.DATABASE_URL = databaseUrl;
  migrate(databaseUrl);
  if (plan.touchAccounts) {
    await ensureAdmin(databaseUrl, { email: vars.LOCAL_ADMIN_EMAIL, name: 'Local Admin', password: vars.LOCAL_ADMIN_PASSWORD, keepPassword: true });
  }
  writeDevVars(varsToSave(vars, plan));
  if (process.argv.includes('--oidc')) {
    oidc = await startDevOidc(OIDC_PORT);
    Object.assign(vars, oidc.vars);
  }
  // A URL that must not be kept reaches wrangler through an env file of its own, private to this run (wrangler then
  // reads it instead of .dev.vars) and removed at exit. So do the settings of --oidc, which hold for this run only.
  const envFileArgs: string[] = [];
  if (!plan.persistUrl || oidc) {
    privateEnvDir = mkdtempSync(join(tmpdir(), 'dashboard-dev-'));
    const envFile = join(privateEnvDir, 'vars.env');
    writeFileSync(envFile, Object.entries(vars).map(([k, v]) => `${k}='${v}'`).join('\n') + '\n', { mode: 0o600 });
    envFileArgs.push('--env-file', envFile);
  }

  const inspectorPort = NO_CAPTURE ? await freePort() : undefined;
  const inspectorArgs = inspectorPort ? ['--inspector-port', String(inspectorPort)] : [];
  wrangler = spawn(
    process.execPath,
    [join(projectRoot, 'node_modules', 'wrangler', 'bin', 'wrangler.js'), 'dev', '--port', String(PORT), '--ip', '127.0.0.1', '--show-interactive-dev-session=false', ...inspectorArgs, ...envFileArgs],
    {
      cwd: projectRoot,
      detached: true,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', DATABASE_URL: undefined },
    },
  );
  wrangler.on('exit', (code) => {
    if (!stopping) {
      console.error(`wrangler dev exited (${code}); stopping.`);
      void stop(1);
    }
  });

  const url = `http://127.0.0.1:${PORT}`;
  for (let i = 0; i < 600; i++) {
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  if (inspectorPort) await keepCaptureOff(inspectorPort);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`\nDashboard Analytics API ready in ${seconds}s at ${url}`);
  console.log(`  API reference: ${url}/docs`);
  // Browsers refuse WebAuthn on an IP-address origin (contract §17): passkeys need the localhost name.
  console.log(`  Console:       http://localhost:${PORT}/console/  (passkeys work here, not on the IP address)`);
  if (plan.touchAccounts) console.log(`  Local admin:   ${vars.LOCAL_ADMIN_EMAIL} / ${vars.LOCAL_ADMIN_PASSWORD}  (kept in .dev.vars)`);
  if (oidc) console.log(`  Single sign-on: ${oidc.provider.issuer} ("Sign in with Local OpenID provider" on ${url}/console/sign-in; any email, e.g. ${DEV_OIDC_TEST_USER})`);
  console.log('  Ctrl-C stops the Worker, the proxy and PostgreSQL.\n');
}

/** Capture off now, and again every few seconds: a reload of the Worker (a saved file) turns it back on. */
async function keepCaptureOff(port: number) {
  await disableNetworkCapture(port);
  console.log('DevTools network capture off (--no-devtools-capture)');
  setInterval(() => void disableNetworkCapture(port).catch(() => {}), 5000).unref();
}

main().catch(async (error) => {
  console.error(error instanceof Error ? error.message : error);
  await stop(1);
});
