/**
 * `npm run db:track-zone -- Europe/Paris [Asia/Kolkata …] [--untrack] [--list]`: gives time zones rollups of their
 * own (drizzle/0010_activity_zones.sql), so the stats in those zones read counters instead of every account-day's
 * quarter-hour mask. Tracking backfills the zone's history from the masks in one transaction (sign-ins and refreshes
 * wait meanwhile: minutes at 1M users); zones not tracked are still answered exactly, only slower. Against
 * DATABASE_URL, or the local database of `npm run dev`.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { canonicalZone } from '../../src/routes/stats/zone';
import { readDevVars } from '../dev/vars';

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { untrack: { type: 'boolean', default: false }, list: { type: 'boolean', default: false } },
  });
  const databaseUrl = process.env.DATABASE_URL || readDevVars().DATABASE_URL;
  if (!databaseUrl) throw new Error('set DATABASE_URL (or run `npm run dev` for the local database)');
  // The spelling the API sends to SQL: the runtime's canonical name (`europe/paris` → `Europe/Paris`).
  const zones = positionals.map((name) => {
    const zone = canonicalZone(name);
    if (!zone || zone === 'UTC') throw new Error(`${name}: not an IANA zone name other than UTC (UTC always has its rollups)`);
    return zone;
  });
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    for (const zone of zones) {
      const started = performance.now();
      await client.query(values.untrack ? `select activity_untrack_zone($1)` : `select activity_track_zone($1)`, [zone]);
      console.log(`${values.untrack ? 'Untracked' : 'Tracked'} ${zone} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
    if (values.list || zones.length === 0) {
      const { rows } = await client.query<{ zone: string; since: string }>(`select zone, tracked_since::text as since from activity_zones order by zone`);
      console.log(`Tracked zones: UTC${rows.map((r) => `, ${r.zone} (since ${r.since})`).join('')}`);
    }
  } finally {
    await client.end();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
