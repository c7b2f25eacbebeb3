/**
 * `npm run db:seed-demo -- --users 100000 --events 1000000`: fills a migrated database with a year of demo data
 * (scripts/seed/seed.ts). The database is DATABASE_URL, or else the local dev database named in the .dev.vars that
 * `npm run dev` writes (that PostgreSQL must be running: keep `npm run dev` open in another terminal).
 * Seeding again replaces the previous demo data. A database that is not on this machine needs `--yes`.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { seedDemoDashboards } from './dashboards';
import { progressPrinter, seed } from './seed';
import { readDevVars } from '../dev/vars';

const USAGE = `usage: npm run db:seed-demo -- [--users N] [--events M] [--password TEXT] [--yes]
  --users      demo users to create (default 10000), plus bench-admin@demo.test and bench-analyst@demo.test
  --events     audit events over the past year (default 100000)
  --password   the one password every demo user gets (default demo-password-1234, 12..128 characters)
  --yes        allow a database that is not on this machine`;

function count(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text.replace(/[_,]/g, ''));
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number ≥ 0, not ${text}`);
  return value;
}

async function main() {
  const { values } = parseArgs({
    options: {
      users: { type: 'string' },
      events: { type: 'string' },
      password: { type: 'string' },
      yes: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const users = count('users', values.users, 10_000);
  const events = count('events', values.events, 100_000);
  const password = values.password;
  if (password !== undefined && ([...password].length < 12 || [...password].length > 128)) {
    throw new Error('--password must be 12..128 characters, as the API requires');
  }

  const fromEnv = process.env.DATABASE_URL;
  const databaseUrl = fromEnv || readDevVars().DATABASE_URL;
  if (!databaseUrl) {
    throw new Error('no database: set DATABASE_URL, or run `npm run dev` once so .dev.vars names the local one');
  }
  const url = new URL(databaseUrl);
  const local = ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(url.hostname);
  if (!local && !values.yes) {
    throw new Error(`${url.hostname} is not this machine: add --yes to seed it anyway (it adds ${users} users)`);
  }
  const where = `${url.hostname}:${url.port || 5432}${url.pathname} (${fromEnv ? 'DATABASE_URL' : '.dev.vars'})`;

  // Fail early with advice rather than a driver error from deep inside the seeding.
  const probe = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
  probe.on('error', () => {});
  try {
    await probe.connect();
  } catch (error) {
    const hint = fromEnv ? '' : ' Is `npm run dev` running? It starts the local PostgreSQL.';
    throw new Error(`cannot connect to ${where}: ${(error as Error).message || String(error)}.${hint}`);
  }
  try {
    const { rows } = await probe.query<{ ok: boolean }>(`select to_regclass('audit_events') is not null and to_regclass('users') is not null as ok`);
    if (!rows[0]?.ok) throw new Error(`${where} has no tables yet: run \`npm run db:migrate\` (or \`npm run dev\`) first`);
  } finally {
    await probe.end().catch(() => {});
  }

  console.error(`Seeding ${where}: ${users.toLocaleString('en-US')} users, ${events.toLocaleString('en-US')} audit events`);
  const progress = progressPrinter();
  const result = await seed(databaseUrl, { users, events, password, onProgress: progress.update });
  progress.end();
  const product = await seedDemoDashboards(databaseUrl, result.analystId);

  const fmt = (x: number) => x.toLocaleString('en-US');
  if (result.replaced.users || result.replaced.events) {
    console.log(`Replaced earlier demo data: ${fmt(result.replaced.users)} users, ${fmt(result.replaced.events)} audit events.`);
  }
  console.log(
    `Seeded ${fmt(result.users)} users, ${fmt(result.events)} audit events, ${fmt(result.activity)} account-days of activity and ${fmt(result.sessions)} sessions in ${(result.ms / 1000).toFixed(1)}s.`,
  );
  console.log(`Product analytics: source "Demo web app" with ${fmt(product.events)} events over 4 weeks, ${product.dashboards} dashboards shared with viewer (and analyst).`);
  console.log(`  Admin:    ${result.adminEmail} (id ${result.adminId})`);
  console.log(`  Analyst:  ${result.analystEmail} (id ${result.analystId})`);
  console.log(`  Users:    user1@demo.test … user${users}@demo.test`);
  console.log(`  Password (every demo user): ${result.password}`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
