/**
 * What the at-scale suites (analytics, events) share: one kept PostgreSQL sized for a data set of several GB, the
 * one way they read percentiles off sorted timings, and the machine's load average that every figure states.
 */
import { loadavg } from 'node:os';
import pg from 'pg';
import { migrate } from '../../scripts/dev/migrate';
import { startPostgres } from '../../scripts/dev/postgres';

/**
 * Sized for ~5–15 GB on this 24 GiB machine, applied once (at a restart): memory, checkpoints far apart, WAL skipped
 * for tables truncated or created in the seeding transaction (wal_level minimal: no replicas of this throwaway
 * server), and a second core for index builds.
 */
const SETTINGS: Record<string, string> = {
  shared_buffers: '2GB',
  effective_cache_size: '8GB',
  max_wal_size: '16GB',
  checkpoint_timeout: '30min',
  work_mem: '64MB',
  wal_level: 'minimal',
  max_wal_senders: '0',
  max_parallel_maintenance_workers: '2',
};

/** The kept server in `dataDir` with SETTINGS (restarted once when they differ), `database` created and migrated. */
export async function startScaleDatabase(options: { dataDir: string; port: number; password: string; database: string }) {
  const start = () => startPostgres({ dataDir: options.dataDir, port: options.port, password: options.password, fast: true });
  let postgres = await start();
  try {
    let admin = new pg.Client({ connectionString: postgres.url('postgres') });
    await admin.connect();
    const current = new Map(
      (await admin.query<{ name: string; setting: string }>(`select name, current_setting(name) as setting from pg_settings where name = any($1)`, [Object.keys(SETTINGS)])).rows.map((r) => [r.name, r.setting]),
    );
    if (Object.entries(SETTINGS).some(([name, value]) => current.get(name) !== value)) {
      for (const [name, value] of Object.entries(SETTINGS)) await admin.query(`alter system set ${name} = '${value}'`);
      await admin.end();
      await postgres.stop();
      postgres = await start();
      admin = new pg.Client({ connectionString: postgres.url('postgres') });
      await admin.connect();
    }
    if (!(await admin.query(`select 1 from pg_database where datname = $1`, [options.database])).rowCount) await admin.query(`create database ${options.database}`);
    await admin.end();
    const url = postgres.url(options.database);
    migrate(url);
    return { postgres, url };
  } catch (error) {
    await postgres.stop();
    throw error;
  }
}

/** The sample at fraction `q` (0..1) of sorted timings: rank floor(q × n), as the at-scale figures have always used. */
export const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

/** `run` once to warm (its answer kept), then `samples` timed runs: p50 and p95 in ms, to 0.1 ms. */
export async function timeRuns<T>(samples: number, run: () => Promise<T>): Promise<{ stats: { p50: number; p95: number }; first: T }> {
  const first = await run();
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { stats: { p50: +quantile(times, 0.5).toFixed(1), p95: +quantile(times, 0.95).toFixed(1) }, first };
}

/** The 1-, 5- and 15-minute load averages, as each figure is published beside them. */
export const loadAverage = () => loadavg().map((x) => x.toFixed(2)).join(' ');
