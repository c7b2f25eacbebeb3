/**
 * `npm run bench [-- --suite=a,b] [--quick] [--users N] [--events M] [--connections C] [--duration S] [--rounds R] [--only a,b]`
 *
 * The runner: parses the options, starts the shared stack (bench/lib/stack.ts) when a selected suite needs it, runs
 * the suites of bench/suites/index.ts in their order, stops everything (also on an error and on Ctrl-C), writes
 * bench/results/latest.json (git-ignored; server logs in bench/results/logs/) and prints each suite's report.
 * A suite with its own database and options (analytics) runs alone: `npm run bench -- --suite=analytics …`.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../scripts/dev/migrate';
import { handleSignals, interrupted, onShutdown, shutdown } from '../scripts/dev/processes';
import { createPhases } from './lib/phases';
import { startStack, type BenchConfig, type Stack } from './lib/stack';
import { compatibilityDate, log, LOGS, RESULTS } from './lib/workers';
import type { SuiteContext, SuiteOutput } from './lib/suite';
import { suites } from './suites/index';

const USAGE = `usage: npm run bench -- [--suite=a,b] [--quick] [--users N] [--events M] [--connections C] [--duration S] [--rounds R] [--only a,b] [--rtts 0,20,80]
  --suite        ${Object.keys(suites).join(', ')} (default: ${Object.keys(suites).filter((s) => suites[s]!.byDefault).join(', ')})
  --quick        1 round of 1.5 s per endpoint on 2,000 users / 10,000 events
  --users        seeded users (default 10,000)          --events    seeded audit events (default 100,000)
  --connections  concurrent connections (default 10)    --duration  seconds per endpoint per round (default 5)
  --rounds       interleaved rounds (default 3)         --only      endpoints whose name contains one of these
  --rtts         simulated database RTTs (ms) for the latency table (default 0,20,80; "" skips it)
Every API endpoint runs on both transports (HTTP, the default, and WebSocket: two Workers). DEV_DB_RTT_MS sets the
simulated RTT of the main table (default 0).
Set DATABASE_URL to bench against that database instead of a throw-away one: it gets migrated and its demo data
(users @demo.test, seeded audit rows) replaced.
Suites:
${Object.entries(suites).map(([name, s]) => `  ${name.padEnd(12)} ${s.summary}`).join('\n')}`;

function count(name: string, text: string | undefined, fallback: number, min = 1): number {
  if (text === undefined) return fallback;
  const value = Number(text.replace(/[_,]/g, ''));
  if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be a number ≥ ${min}, not ${text}`);
  return value;
}

/** --suite=a,b (or --analytics, the older spelling): the names, checked against the registry. */
function selectedSuites(argv: string[]): string[] {
  const named = argv.flatMap((a, i) => (a.startsWith('--suite=') ? [a.slice(8)] : a === '--suite' ? [argv[i + 1] ?? ''] : []));
  const names = named.flatMap((n) => n.split(',')).map((n) => n.trim()).filter(Boolean);
  if (argv.includes('--analytics')) names.push('analytics');
  for (const n of names) if (!suites[n]) throw new Error(`no bench suite "${n}"; there are: ${Object.keys(suites).join(', ')}`);
  return names.length ? [...new Set(names)] : Object.keys(suites).filter((n) => suites[n]!.byDefault);
}

async function main() {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) return console.log(USAGE);
  const names = selectedSuites(argv);
  const alone = names.filter((n) => suites[n]!.standalone);
  if (alone.length) {
    if (names.length > 1) throw new Error(`suite ${alone[0]} brings its own database and options: run it on its own`);
    return suites[alone[0]!]!.standalone!(argv);
  }
  const { values } = parseArgs({
    args: argv,
    options: {
      suite: { type: 'string', multiple: true },
      quick: { type: 'boolean', default: false },
      users: { type: 'string' },
      events: { type: 'string' },
      connections: { type: 'string' },
      duration: { type: 'string' },
      rounds: { type: 'string' },
      only: { type: 'string' },
      rtts: { type: 'string' },
    },
  });
  const quick = values.quick!;
  const config: BenchConfig = {
    quick,
    users: Math.floor(count('users', values.users, quick ? 2_000 : 10_000, 100)),
    events: Math.floor(count('events', values.events, quick ? 10_000 : 100_000, 0)),
    connections: Math.floor(count('connections', values.connections, 10)),
    durationS: count('duration', values.duration, quick ? 1.5 : 5, 0.5),
    rounds: Math.floor(count('rounds', values.rounds, quick ? 1 : 3)),
    baseRttMs: count('DEV_DB_RTT_MS', process.env.DEV_DB_RTT_MS, 0, 0),
    rtts: (values.rtts ?? '0,20,80').split(',').filter((x) => x.trim() !== '').map((x) => count('rtts', x.trim(), 0, 0)),
    only: values.only?.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean) ?? null,
  };
  const chosen = names.map((n) => [n, suites[n]!] as const);

  const benchStarted = performance.now();
  const { phase, phases } = createPhases();
  mkdirSync(LOGS, { recursive: true });
  const root = mkdtempSync(join(os.tmpdir(), 'dashboard-bench-'));
  chmodSync(root, 0o755); // the postgres user must reach the data folders inside
  onShutdown('remove temporary folder', () => rmSync(root, { recursive: true, force: true }));
  const problems: string[] = [];
  const note = (problem: string) => {
    if (!problems.includes(problem)) problems.push(problem);
    log(`note: ${problem}`);
  };
  const ctx: SuiteContext = { root, quick, phase, note };

  const appDate = compatibilityDate(join(projectRoot, 'wrangler.toml'));
  const floorDate = compatibilityDate(join(projectRoot, 'bench', 'wrangler.floor.toml'));
  if (appDate !== floorDate) log(`warning: bench/wrangler.floor.toml has compatibility_date ${floorDate}, wrangler.toml ${appDate}: align them`);
  log(`bench ${names.join(', ')}: ${config.users.toLocaleString('en-US')} users, ${config.events.toLocaleString('en-US')} events, ` +
    `${config.connections} connections, ${config.durationS} s per endpoint × ${config.rounds} round(s)`);

  for (const [, s] of chosen) s.beforeStack?.(ctx);
  const outputs: SuiteOutput[] = [];
  let stack: Stack | undefined;
  if (chosen.some(([, s]) => s.run)) {
    stack = await startStack(config, root, phase, note);
    for (const [, s] of chosen) if (s.run) outputs.push(await s.run(stack, ctx));
    await stack.stop();
  }
  for (const [, s] of chosen) if (s.afterStack) outputs.push(await s.afterStack(ctx));

  const merged = Object.assign({}, ...outputs.map((o) => o.results)) as Record<string, unknown>;
  Object.assign(phases, merged.loadOverheadMs ?? {});
  delete merged.loadOverheadMs;
  const result = {
    startedAt: new Date(Date.now() - (performance.now() - benchStarted)).toISOString(),
    finishedAt: new Date().toISOString(),
    suites: names,
    config,
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      wrangler: JSON.parse(readFileSync(join(projectRoot, 'node_modules', 'wrangler', 'package.json'), 'utf8')).version as string,
      loadAverage: os.loadavg(),
    },
    database: process.env.DATABASE_URL ? 'DATABASE_URL' : 'throw-away embedded PostgreSQL (fsync off)',
    compatibilityDate: { app: appDate, floor: floorDate },
    ...(stack && {
      seed: { ...stack.seeded, password: undefined, refreshTokens: stack.seeded.refreshTokens.length },
      context: { deepCursorAfterRows: stack.ctx.deepOffset, sampleUserId: stack.ctx.sampleUserId, roleTargetId: stack.ctx.roleTargetId, idleProbeMs: stack.idle },
    }),
    ...merged,
    problems,
    phasesMs: phases,
    totalMs: Math.round(performance.now() - benchStarted),
  };
  writeFileSync(join(RESULTS, 'latest.json'), JSON.stringify(result, null, 2) + '\n');
  for (const o of outputs) o.print();
  if (problems.length) console.log(`Problems: ${problems.join('; ')}`);
  console.log(`Total ${(result.totalMs / 1000).toFixed(1)} s. Full results: bench/results/latest.json, logs: bench/results/logs/`);
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
