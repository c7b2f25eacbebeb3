/**
 * `npm run db:seed-events -- --events 10000000 --ids 100000 --days 365`: fills the event store (contract §13) with
 * realistic product events (scripts/seed/event-store.ts) in three sources named "Seed: …". The database is
 * DATABASE_URL, or else the local dev database named in the .dev.vars that `npm run dev` writes. Seeding again
 * replaces the earlier seeded events. A database that is not on this machine needs `--yes`.
 */
import { parseArgs } from 'node:util';
import { readDevVars } from '../dev/vars';
import { progressPrinter } from './seed';
import { seedEvents } from './event-store';

const USAGE = `usage: npm run db:seed-events -- [--events N] [--ids M] [--days D] [--streams S] [--yes]
  --events   events to generate (default 1000000)
  --ids      distinct ids (users and anonymous visitors, default 100000)
  --days     days back from today they spread over (default 365, at most 366)
  --streams  COPY streams at once (default 2)
  --yes      allow a database that is not on this machine`;

function count(name: string, text: string | undefined, fallback: number, min = 1): number {
  if (text === undefined) return fallback;
  const value = Number(text.replace(/[_,]/g, ''));
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be a whole number ≥ ${min}, not ${text}`);
  return value;
}

async function main() {
  const { values } = parseArgs({
    options: {
      events: { type: 'string' },
      ids: { type: 'string' },
      days: { type: 'string' },
      streams: { type: 'string' },
      yes: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return console.log(USAGE);
  const events = count('events', values.events, 1_000_000, 0);
  const ids = count('ids', values.ids, 100_000);
  const days = count('days', values.days, 365);
  const streams = count('streams', values.streams, 2);
  if (days > 366) throw new Error('--days must be at most 366 (the oldest timestamp §13 takes)');
  const databaseUrl = process.env.DATABASE_URL || readDevVars().DATABASE_URL;
  if (!databaseUrl) throw new Error('no database: set DATABASE_URL, or run `npm run dev` once so .dev.vars names the local one');
  const url = new URL(databaseUrl);
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(url.hostname) && !values.yes) {
    throw new Error(`${url.hostname} is not this machine: add --yes to seed it anyway`);
  }
  console.error(`Seeding ${url.hostname}:${url.port || 5432}${url.pathname}: ${events.toLocaleString('en-US')} events, ${ids.toLocaleString('en-US')} ids, ${days} days`);
  const progress = progressPrinter();
  const result = await seedEvents(databaseUrl, { events, ids, days, streams, onProgress: progress.update });
  progress.end();
  const fmt = (x: number) => x.toLocaleString('en-US');
  if (result.replaced) console.log(`Replaced ${fmt(result.replaced)} earlier events.`);
  console.log(`Seeded ${fmt(result.events)} events in sources ${result.sources.join(', ')} in ${(result.ms / 1000).toFixed(1)}s.`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
