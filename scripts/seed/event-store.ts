/**
 * The event store's seeder (npm run db:seed-events): realistic product events generated in Node and streamed into
 * PostgreSQL with `COPY … FROM STDIN` (pg-copy-streams), several streams at once, one day range each. COPY is the
 * fastest way a client has to load rows (no statement per row, no parameters, no plan), and generating in Node keeps
 * PostgreSQL's cores for parsing and storing rows: 10M events in minutes (docs/ingest.md has the figures).
 *
 * Shape: three sources; sessions of 8 events (one distinct id, a start in the day with a daytime peak, steps about
 * 90 s apart, in order); ~50 event names with weights; a signup funnel (signup.started → signup.completed →
 * onboarding.completed → plan.upgraded) started in 30 % of sessions and converting 60 %, 45 %, 20 % step by step; a
 * checkout funnel (cart.viewed → checkout.started → purchase.completed) in 15 % converting 50 %, 70 %; weekly
 * seasonality (weekends 60 % of a weekday) and 30 % growth over the span; 20 % of ids anonymous. Properties: plan,
 * country, a nested `device` object, numbers (duration_ms, and amount/items on purchases), the page path.
 * Everything is a function of the row number (a 32-bit integer hash), so a run is reproducible.
 */
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { SeedProgress } from './seed';

export interface EventSeedOptions {
  events: number;
  ids: number;
  days: number;
  /** COPY streams run at once (default 2: PostgreSQL parses and stores each on a core of its own). */
  streams?: number;
  /** Drop the secondary indexes and build them after the load (default: from 1,000,000 events on). */
  rebuildIndexes?: boolean;
  onProgress?: (progress: SeedProgress) => void;
}

export const SEED_SOURCES = ['Seed: web app', 'Seed: marketing site', 'Seed: backend'];
// name, weight (the funnel steps are placed by the session, not drawn).
const NAMES: [string, number][] = [
  ['page.viewed', 30], ['report.viewed', 12], ['dashboard.viewed', 10], ['search.performed', 6], ['report.exported', 3],
  ['report.created', 2], ['report.shared', 2], ['dashboard.created', 1], ['dashboard.shared', 1], ['widget.added', 2],
  ['widget.removed', 1], ['filter.applied', 5], ['filter.cleared', 2], ['chart.zoomed', 2], ['date_range.changed', 3],
  ['notification.opened', 2], ['notification.dismissed', 1], ['settings.viewed', 1], ['settings.updated', 1],
  ['profile.updated', 1], ['password.changed', 1], ['team.invited', 1], ['team.joined', 1], ['api_key.created', 1],
  ['integration.connected', 1], ['integration.failed', 1], ['file.uploaded', 2], ['file.downloaded', 2],
  ['comment.added', 2], ['comment.resolved', 1], ['help.opened', 1], ['feedback.sent', 1], ['tour.started', 1],
  ['tour.completed', 1], ['session.started', 4], ['session.ended', 3], ['error.shown', 1], ['export.failed', 1],
  ['alert.created', 1], ['alert.triggered', 1], ['billing.viewed', 1], ['invoice.downloaded', 1], ['plan.downgraded', 1],
  ['logout', 2],
];
const DRAWN = NAMES.flatMap(([name, weight]) => Array<string>(weight).fill(name));
const PLANS = ['free', 'free', 'free', 'starter', 'starter', 'pro', 'pro', 'enterprise'];
const COUNTRIES = ['US', 'US', 'US', 'GB', 'DE', 'FR', 'FR', 'NL', 'ES', 'IT', 'BR', 'IN', 'JP', 'CA', 'AU', 'SE', 'PL', 'MX'];
const OSES = ['macOS', 'Windows', 'Linux', 'iOS', 'Android'];
const BROWSERS = ['Chrome', 'Firefox', 'Safari', 'Edge'];
const PAGES = ['/', '/pricing', '/reports', '/dashboards', '/settings', '/docs', '/blog', '/signup'];
const SESSION = 8;

/** Events per day: weekday 1.0, Saturday and Sunday 0.6, growing linearly by 30 % over the span; sums to `total`. */
export function dailyCounts(total: number, days: number, lastDay: Date): number[] {
  const weights = Array.from({ length: days }, (_, i) => {
    const day = new Date(lastDay.getTime() - (days - 1 - i) * 86400_000);
    const weekend = day.getUTCDay() === 0 || day.getUTCDay() === 6;
    return (weekend ? 0.6 : 1) * (1 + (0.3 * i) / Math.max(1, days - 1));
  });
  const sum = weights.reduce((a, b) => a + b, 0);
  const counts = weights.map((w) => Math.floor((w / sum) * total));
  let rest = total - counts.reduce((a, b) => a + b, 0);
  for (let i = counts.length - 1; rest > 0; i = (i - 1 + counts.length) % counts.length, rest--) counts[i]!++;
  return counts;
}

/** A reproducible non-negative 31-bit pseudo-random integer of `x` for the purpose `k` (murmur3's finaliser). */
function h(x: number, k: number): number {
  let v = Math.imul(x ^ Math.imul(k, 0x9e3779b9), 0x85ebca6b) ^ (x / 4294967296);
  v ^= v >>> 16;
  v = Math.imul(v, 0x85ebca6b);
  v ^= v >>> 13;
  v = Math.imul(v, 0xc2b2ae35);
  v ^= v >>> 16;
  return v & 0x7fffffff;
}

/** The event name of step `step` of a session whose draws are `funnel`, `c1`..`c3`, else a weighted draw. */
function eventName(step: number, funnel: number, c1: number, c2: number, c3: number, rnd: number): string {
  if (funnel < 30) {
    if (step === 0) return 'signup.started';
    if (step === 1 && c1 < 60) return 'signup.completed';
    if (step === 2 && c1 < 60 && c2 < 45) return 'onboarding.completed';
    if (step === 3 && c1 < 60 && c2 < 45 && c3 < 20) return 'plan.upgraded';
  } else if (funnel < 45) {
    if (step === 2) return 'cart.viewed';
    if (step === 3 && c1 < 50) return 'checkout.started';
    if (step === 4 && c1 < 50 && c2 < 70) return 'purchase.completed';
  }
  return DRAWN[rnd % DRAWN.length]!;
}

/**
 * The COPY text of rows `first+1 .. first+n` (8 a session) on the day starting at `dayMs` (UTC), in chunks of about
 * `chunkRows` rows. Columns: source_id, event, distinct_id, timestamp, received_at, country, properties. No value
 * holds a tab, a line break or a backslash, so nothing needs COPY's escaping. A session that would start after
 * `nowMs` is moved one day back (events are never in the future).
 */
export function* copyRows(sources: number[], first: number, n: number, ids: number, dayMs: number, nowMs: number, chunkRows = 2000) {
  let chunk = '';
  let inChunk = 0;
  for (let row = first + 1; row <= first + n; row++) {
    const sess = Math.floor(row / SESSION);
    const step = row % SESSION;
    const uid = (h(sess, 1) % ids) + 1;
    const funnel = h(sess, 2) % 100;
    const t = (h(sess, 6) % 1000000) / 1000000;
    const src = h(sess, 7) % 100;
    const rnd = h(row, 8);
    const name = eventName(step, funnel, h(sess, 3) % 100, h(sess, 4) % 100, h(sess, 5) % 100, rnd);
    let at = dayMs + Math.floor(1000 * (86000 * (uid % 5 === 0 ? t : 0.25 + 0.6 * t * t) + step * 90 + (rnd % 60)));
    if (at > nowMs - 1000) at -= 86400_000;
    const country = COUNTRIES[uid % COUNTRIES.length]!;
    const id = uid % 5 === 4 ? `anon-${uid}` : `user-${uid}`;
    const source = sources[src < 60 ? 0 : src < 85 ? 1 : 2];
    const purchase = name === 'purchase.completed' ? `,"amount":${((rnd % 50000) / 100).toFixed(2)},"items":${1 + (rnd % 5)}` : '';
    const props =
      `{"plan":"${PLANS[Math.floor(uid / 7) % PLANS.length]}","country":"${country}","page":"${PAGES[rnd % PAGES.length]}",` +
      `"device":{"os":"${OSES[uid % OSES.length]}","browser":"${BROWSERS[Math.floor(uid / 3) % BROWSERS.length]}","mobile":${uid % 5 >= 3}},` +
      `"duration_ms":${rnd % 20000},"session":${sess}${purchase}}`;
    chunk += `${source}\t${name}\t${id}\t${new Date(at).toISOString()}\t${new Date(at + (rnd % 3) * 1000).toISOString()}\t${country}\t${props}\n`;
    if (++inChunk === chunkRows) {
      yield { text: chunk, rows: inChunk };
      chunk = '';
      inChunk = 0;
    }
  }
  if (inChunk > 0) yield { text: chunk, rows: inChunk };
}

/** Splits day indexes 0..counts.length-1 into `k` contiguous ranges of about equal event counts. */
function splitDays(counts: number[], k: number): [number, number][] {
  const total = counts.reduce((a, b) => a + b, 0);
  const ranges: [number, number][] = [];
  let start = 0;
  let acc = 0;
  for (let i = 0; i < counts.length; i++) {
    acc += counts[i]!;
    if (acc >= (total * (ranges.length + 1)) / k && ranges.length < k - 1) {
      ranges.push([start, i + 1]);
      start = i + 1;
    }
  }
  ranges.push([start, counts.length]);
  return ranges.filter(([a, b]) => b > a);
}

/** Seeds `events` over the last `days` days (ending now), replacing earlier seeded events. Returns counts and time. */
export async function seedEvents(databaseUrl: string, options: EventSeedOptions) {
  const started = performance.now();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const q = (text: string, params: unknown[] = []) => client.query(text, params);
  try {
    await q(`set statement_timeout = 0`);
    await q(`set synchronous_commit = off`);
    // The seed's sources: earlier ones (and their events) are replaced.
    const old = (await q(`select id from sources where name = any($1::text[])`, [SEED_SOURCES])).rows.map((r) => r.id as number);
    let replaced = 0;
    if (old.length > 0) {
      options.onProgress?.({ phase: 'prepare', done: 0, total: 1 });
      const others = await q(`select 1 from events where source_id <> all($1::int[]) limit 1`, [old]);
      if (others.rows.length === 0) {
        replaced = Number((await q(`select count(*) from events`)).rows[0].count);
        await q(`truncate events`);
      } else {
        replaced = (await q(`delete from events where source_id = any($1::int[])`, [old])).rowCount ?? 0;
      }
      await q(`delete from event_keys where source_id = any($1::int[])`, [old]);
      await q(`delete from sources where id = any($1::int[])`, [old]);
    }
    const sources = (await q(`insert into sources (name) select unnest($1::text[]) returning id`, [SEED_SOURCES])).rows.map((r) => r.id as number);
    await q(`select ensure_event_partitions((now() - make_interval(days => $1))::date, (now() + interval '1 month')::date)`, [options.days + 31]);

    // A large load goes in without the secondary indexes, rebuilt once at the end (much faster than row by row).
    const indexes = (options.rebuildIndexes ?? options.events >= 1_000_000)
      ? ((await q(`select i.relname as name, pg_get_indexdef(i.oid) as def from pg_index x join pg_class i on i.oid = x.indexrelid
                   where x.indrelid = 'events'::regclass and not x.indisprimary`)).rows as { name: string; def: string }[])
      : [];
    for (const index of indexes) await q(`drop index ${index.name}`);

    const now = Date.now();
    const today = new Date(now);
    today.setUTCHours(0, 0, 0, 0);
    const counts = dailyCounts(options.events, options.days, today);
    const firsts = counts.map((_, i) => counts.slice(0, i).reduce((a, b) => a + b, 0));
    let done = 0;
    const copyStream = async ([from, to]: [number, number]) => {
      const stream = new pg.Client({ connectionString: databaseUrl });
      await stream.connect();
      try {
        await stream.query(`set synchronous_commit = off`);
        function* text() {
          for (let i = from; i < to; i++) {
            const dayMs = today.getTime() - (counts.length - 1 - i) * 86400_000;
            for (const chunk of copyRows(sources, firsts[i]!, counts[i]!, options.ids, dayMs, now)) {
              done += chunk.rows;
              options.onProgress?.({ phase: 'events', done, total: options.events });
              yield chunk.text;
            }
          }
        }
        await pipeline(
          Readable.from(text()),
          stream.query(copyFrom(`copy events (source_id, event, distinct_id, "timestamp", received_at, country, properties) from stdin`)),
        );
      } finally {
        await stream.end();
      }
    };
    await Promise.all(splitDays(counts, Math.max(1, options.streams ?? 2)).map(copyStream));

    await q(`set maintenance_work_mem = '512MB'`);
    for (const [i, index] of indexes.entries()) {
      options.onProgress?.({ phase: 'indexes', done: i, total: indexes.length });
      // The parent's definition reads `ON ONLY events`, which would build no partition's index: build them all.
      await q(index.def.replace(' ON ONLY ', ' ON '));
    }
    options.onProgress?.({ phase: 'analyze', done: 0, total: 1 });
    await q(`update sources set last_event_at = now() where id = any($1::int[])`, [sources]);
    await q(`analyze events`);
    options.onProgress?.({ phase: 'analyze', done: 1, total: 1 });
    return { sources, events: done, replaced, ms: performance.now() - started };
  } finally {
    await client.end();
  }
}
