/**
 * The event seeder (scripts/seed/event-store.ts, npm run db:seed-events) against a real, migrated PostgreSQL: the
 * count asked for lands, in the span asked for and never in the future, the funnels convert step by step, weekends
 * are quieter, the indexes dropped for the load come back on every partition, and seeding again replaces the seed.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../scripts/dev/migrate';
import { freePort, startPostgres, type RunningPostgres } from '../../scripts/dev/postgres';
import { SEED_SOURCES, seedEvents } from '../../scripts/seed/event-store';

let root: string;
let postgres: RunningPostgres;
let url: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'seed-events-test-'));
  chmodSync(root, 0o755);
  postgres = await startPostgres({ dataDir: join(root, 'pgdata'), port: await freePort(), password: randomBytes(8).toString('hex'), fast: true });
  url = postgres.url('postgres');
  migrate(url);
}, 120_000);
afterAll(async () => {
  await postgres?.stop();
  rmSync(root, { recursive: true, force: true });
});

async function rows<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('the event seeder', () => {
  it('loads exactly the events asked for, shaped as documented, and rebuilds the indexes it dropped', async () => {
    const indexesBefore = await rows(`select count(*)::int as n from pg_indexes where tablename like 'events%'`);
    const result = await seedEvents(url, { events: 40_000, ids: 2_000, days: 60, streams: 3, rebuildIndexes: true });
    expect(result.events).toBe(40_000);
    expect(result.sources).toHaveLength(3);

    const [summary] = await rows<{ n: number; ids: number; future: number; oldest: number; sources: number }>(
      `select count(*)::int as n, count(distinct distinct_id)::int as ids, count(*) filter (where "timestamp" > now())::int as future,
              extract(epoch from now() - min("timestamp"))::int / 86400 as oldest, count(distinct source_id)::int as sources
       from events`,
    );
    expect(summary).toMatchObject({ n: 40_000, future: 0, sources: 3 });
    expect(summary!.ids).toBeLessThanOrEqual(2_000);
    expect(summary!.ids).toBeGreaterThan(1_500);
    expect(summary!.oldest).toBeGreaterThanOrEqual(58);
    expect(summary!.oldest).toBeLessThanOrEqual(61);
    // Every row is a real source of the seed, with the documented properties.
    const [props] = await rows<{ bad: number }>(
      `select count(*)::int as bad from events e left join sources s on s.id = e.source_id
       where s.name <> all($1::text[]) or s.id is null or not (properties ? 'plan' and properties ? 'country'
         and jsonb_typeof(properties->'device') = 'object' and jsonb_typeof(properties->'duration_ms') = 'number')`,
      [SEED_SOURCES],
    );
    expect(props!.bad).toBe(0);

    // The funnels: each step is reached by fewer sessions than the one before, at about the documented rates.
    const counted = new Map(
      (await rows<{ event: string; n: number }>(`select event, count(*)::int as n from events group by event`)).map((r) => [r.event, r.n]),
    );
    const step = (name: string) => counted.get(name) ?? 0;
    const sessions = 40_000 / 8;
    expect(step('signup.started') / sessions).toBeGreaterThan(0.25);
    expect(step('signup.started') / sessions).toBeLessThan(0.35);
    expect(step('signup.completed') / step('signup.started')).toBeGreaterThan(0.5);
    expect(step('signup.completed') / step('signup.started')).toBeLessThan(0.7);
    expect(step('onboarding.completed')).toBeLessThan(step('signup.completed'));
    expect(step('plan.upgraded')).toBeLessThan(step('onboarding.completed'));
    expect(step('purchase.completed')).toBeLessThan(step('checkout.started'));
    expect(step('checkout.started')).toBeLessThan(step('cart.viewed'));
    expect(counted.size).toBeGreaterThan(45);
    // A purchase carries its amount and items.
    const [purchase] = await rows<{ bad: number }>(
      `select count(*)::int as bad from events where event = 'purchase.completed' and not (properties ? 'amount' and properties ? 'items')`,
    );
    expect(purchase!.bad).toBe(0);

    // Weekly seasonality: a weekend day has about 60 % of a weekday's events.
    const [week] = await rows<{ ratio: number }>(
      `select (count(*) filter (where extract(isodow from "timestamp") >= 6) / 2.0) / (count(*) filter (where extract(isodow from "timestamp") < 6) / 5.0) as ratio from events`,
    );
    expect(Number(week!.ratio)).toBeGreaterThan(0.5);
    expect(Number(week!.ratio)).toBeLessThan(0.75);

    // The dropped secondary indexes are back, on the partitions too (not only `ON ONLY events`).
    const indexesAfter = await rows(`select count(*)::int as n from pg_indexes where tablename like 'events%'`);
    expect(indexesAfter).toEqual(indexesBefore);
    const [invalid] = await rows<{ n: number }>(`select count(*)::int as n from pg_index where not indisvalid`);
    expect(invalid!.n).toBe(0);
  });

  it('seeding again replaces the earlier seed, reproducibly', async () => {
    const before = await rows(`select event, distinct_id, properties from events order by "timestamp", event, distinct_id limit 50`);
    const result = await seedEvents(url, { events: 40_000, ids: 2_000, days: 60, streams: 1 });
    expect(result.replaced).toBe(40_000);
    const [count] = await rows<{ n: number; sources: number }>(`select count(*)::int as n, (select count(*)::int from sources) as sources from events`);
    expect(count).toEqual({ n: 40_000, sources: 3 });
    // The same rows from the same options, whatever the number of streams.
    expect(await rows(`select event, distinct_id, properties from events order by "timestamp", event, distinct_id limit 50`)).toEqual(before);
  });
});
