/**
 * `npm run bench -- --suite=analytics [--vacuum] [--users N] [--events M] [--samples K] [--port P] [--data DIR]`
 *
 * The analytics statements at scale. Keeps its own PostgreSQL in `.data/analytics-bench` (git-ignored) so the large
 * data set is seeded once (default 1,000,000 users and 10,000,000 audit events with a year of activity, by
 * scripts/seed/seed.ts) and measured as often as needed. Each statement is the one the route builds, run on a warm
 * connection: the p50/p95 of K runs, and one `EXPLAIN (ANALYZE, BUFFERS)` each, written to
 * bench/results/analytics.json and bench/results/analytics-plans.txt. The users export is timed end to end (every
 * keyset page, formatted as CSV) with its peak memory.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { SQL } from 'drizzle-orm';
import pg from 'pg';
import { projectRoot } from '../../scripts/dev/migrate';
import { progressPrinter, seed } from '../../scripts/seed/seed';
import { activityWrites, analyticsCases, exportAll } from './analytics-cases';
import { loadAverage, quantile, startScaleDatabase, timeRuns } from '../lib/scale';
import type { Suite } from '../lib/suite';

const RESULTS = join(projectRoot, 'bench', 'results');
const log = (line: string) => process.stderr.write(`${line}\n`);
const dialect = new PgDialect();

export async function main(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      analytics: { type: 'boolean' },
      suite: { type: 'string' },
      users: { type: 'string', default: '1000000' },
      events: { type: 'string', default: '10000000' },
      samples: { type: 'string', default: '15' },
      port: { type: 'string', default: '55403' },
      data: { type: 'string', default: join(projectRoot, '.data', 'analytics-bench') },
      only: { type: 'string' },
      skip: { type: 'string' },
      'no-export': { type: 'boolean', default: false },
      // VACUUM ANALYZE before measuring (as autovacuum leaves a live database; a fresh seed has not been vacuumed since
      // its last writes): recorded in analytics.json so the figure says which state it measured.
      vacuum: { type: 'boolean', default: false },
    },
  });
  const users = Number(values.users);
  const events = Number(values.events);
  const samples = Number(values.samples);
  const { postgres, url } = await startScaleDatabase({ dataDir: values.data!, port: Number(values.port), password: 'analytics-bench', database: 'analytics' });
  try {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const have = Number((await client.query(`select count(*) as n from users where email like '%@demo.test'`)).rows[0].n);
    if (have < users) {
      log(`Seeding ${users.toLocaleString('en-US')} users and ${events.toLocaleString('en-US')} audit events (once; kept in ${values.data})`);
      const progress = progressPrinter();
      const result = await seed(url, { users, events, onProgress: progress.update });
      progress.end();
      log(`Seeded in ${(result.ms / 1000).toFixed(1)} s: ${result.activity.toLocaleString('en-US')} account-days of activity`);
    }
    const sizes = (await client.query(`select
        (select count(*) from users) as users, (select count(*) from audit_events) as events,
        (select count(*) from user_activity) as activity,
        pg_size_pretty(pg_database_size(current_database())) as size,
        pg_size_pretty(pg_total_relation_size('user_activity')) as activity_size,
        (select round(avg(n)) from (select count(*) as n from user_activity where day < (now() at time zone 'UTC')::date group by day) d) as daily_active`)).rows[0];
    log(`Data: ${JSON.stringify(sizes)}`);

    let vacuumMs: number | null = null;
    if (values.vacuum) {
      const t = performance.now();
      await client.query('vacuum analyze');
      vacuumMs = Math.round(performance.now() - t);
      log(`VACUUM ANALYZE: ${(vacuumMs / 1000).toFixed(1)} s`);
    }
    const only = values.only?.split(',');
    const skip = values.skip?.split(',') ?? [];
    const results: Record<string, { p50: number; p95: number; rows?: number }> = {};
    const loadBefore = loadAverage();
    let plans = `# ${new Date().toISOString()}, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, load average before ${loadBefore}\n# ${JSON.stringify(sizes)}\n`;
    for (const c of analyticsCases()) {
      if ((only && !only.some((o) => c.name.includes(o))) || skip.some((o) => c.name.includes(o))) continue;
      const query = dialect.sqlToQuery(c.sql as SQL);
      const warm = performance.now();
      await client.query(query.sql, query.params);
      // A statement of seconds (the mask readings of zones not tracked) gets 3 samples, not the full count.
      const runs = performance.now() - warm > 2000 ? Math.min(samples, 3) : samples;
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        await client.query(query.sql, query.params);
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      results[c.name] = { p50: +quantile(times, 0.5).toFixed(1), p95: +quantile(times, 0.95).toFixed(1) };
      const plan = (await client.query(`explain (analyze, buffers) ${query.sql}`, query.params)).rows.map((r) => r['QUERY PLAN']).join('\n');
      plans += `\n=== ${c.name} ===\n${plan}\n`;
      log(`${c.name.padEnd(48)} p50 ${results[c.name]!.p50.toFixed(1).padStart(8)} ms   p95 ${results[c.name]!.p95.toFixed(1).padStart(8)} ms`);
    }
    if (!only || only.includes('write')) {
      const w = await activityWrites(client, Math.max(samples, 30));
      for (const [name, times] of [['first of the day', w.first], ['again, same quarter-hour', w.again]] as const) {
        const key = `activity write, ${name} (${w.zones} tracked zones besides UTC)`;
        results[key] = { p50: +quantile(times, 0.5).toFixed(2), p95: +quantile(times, 0.95).toFixed(2) };
        log(`${key.padEnd(48)} p50 ${results[key]!.p50.toFixed(2).padStart(8)} ms   p95 ${results[key]!.p95.toFixed(2).padStart(8)} ms`);
      }
    }
    if (!values['no-export'] && (!only || only.includes('export'))) {
      const e = await exportAll(client);
      results['users export (all pages, CSV)'] = { p50: e.ms, p95: e.ms, rows: e.rows };
      log(`users export: ${e.rows.toLocaleString('en-US')} rows, ${(e.bytes / 1e6).toFixed(1)} MB of CSV in ${(e.ms / 1000).toFixed(1)} s; heap peak ${(e.peakHeap / 1e6).toFixed(0)} MB (start ${(e.startHeap / 1e6).toFixed(0)} MB)`);
    }
    await client.end();
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, 'analytics.json'), JSON.stringify({ at: new Date().toISOString(), command: `npm run bench -- ${argv.join(' ')}`, vacuumedFirstMs: vacuumMs, load: { before: loadBefore, after: loadAverage() }, data: sizes, results }, null, 2));
    log(`Load average before ${loadBefore}, after ${loadAverage()}`);
    writeFileSync(join(RESULTS, 'analytics-plans.txt'), plans);
    log(`Plans: bench/results/analytics-plans.txt`);
  } finally {
    await postgres.stop();
  }
}

export const analytics: Suite = {
  summary: 'the analytics statements at scale on a kept database (default 1M users, 10M events): p50/p95 and plans',
  byDefault: false,
  standalone: main,
};
