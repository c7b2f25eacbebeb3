/**
 * The event store's seeder (npm run db:seed-events): realistic product events generated inside PostgreSQL, one
 * INSERT … SELECT per day, so 10M rows cost no client round trips per row.
 *
 * Shape: three sources; sessions of 8 events (one distinct id, a start in the day with a daytime peak, steps about
 * 90 s apart, in order); ~50 event names with weights; a signup funnel (signup.started → signup.completed → onboarding.completed →
 * plan.upgraded) started in 30 % of sessions and converting 60 %, 45 %, 20 % step by step; a checkout funnel
 * (cart.viewed → checkout.started → purchase.completed) in 15 % converting 50 %, 70 %; weekly seasonality (weekends
 * 60 % of a weekday) and 30 % growth over the span; 20 % of ids anonymous. Properties: plan, country, a nested
 * `device` object, numbers (duration_ms, and amount/items on purchases), the page path.
 * Everything is a function of the row number (hashint8extended), so a run is reproducible.
 */
import pg from 'pg';
import type { SeedProgress } from './seed';

export interface EventSeedOptions {
  events: number;
  ids: number;
  days: number;
  onProgress?: (progress: SeedProgress) => void;
}

const SOURCES = ['Seed: web app', 'Seed: marketing site', 'Seed: backend'];
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
const FUNNEL_NAMES = ['signup.started', 'signup.completed', 'onboarding.completed', 'plan.upgraded', 'cart.viewed', 'checkout.started', 'purchase.completed'];
const PLANS = ['free', 'free', 'free', 'starter', 'starter', 'pro', 'pro', 'enterprise'];
const COUNTRIES = ['US', 'US', 'US', 'GB', 'DE', 'FR', 'FR', 'NL', 'ES', 'IT', 'BR', 'IN', 'JP', 'CA', 'AU', 'SE', 'PL', 'MX'];
const OSES = ['macOS', 'Windows', 'Linux', 'iOS', 'Android'];
const BROWSERS = ['Chrome', 'Firefox', 'Safari', 'Edge'];
const PAGES = ['/', '/pricing', '/reports', '/dashboards', '/settings', '/docs', '/blog', '/signup'];

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

const arr = (values: string[]) => `array[${values.map((v) => `'${v}'`).join(',')}]`;

/** The INSERT of one day: rows base+1 .. base+n (8 rows a session) at the day starting `day` (UTC). */
function dayInsert(sources: number[]): string {
  const drawn = arr(NAMES.flatMap(([name, weight]) => Array(weight).fill(name)));
  // h(k): a reproducible non-negative pseudo-random integer of the session (or row) for the purpose k.
  return `
    with r as (
      select g as row, g / 8 as sess, g % 8 as step from generate_series($1::bigint + 1, $1::bigint + $2::bigint) g
    ), s as (
      select r.*,
        (hashint8extended(sess, 1) & 2147483647) % $3::int + 1 as uid,
        (hashint8extended(sess, 2) & 2147483647) % 100 as funnel,
        (hashint8extended(sess, 3) & 2147483647) % 100 as c1,
        (hashint8extended(sess, 4) & 2147483647) % 100 as c2,
        (hashint8extended(sess, 5) & 2147483647) % 100 as c3,
        (hashint8extended(sess, 6) & 2147483647) % 1000000 / 1000000.0 as t,
        (hashint8extended(sess, 7) & 2147483647) % 100 as src,
        (hashint8extended(row, 8) & 2147483647) as rnd
      from r
    ), e as (
      select s.*,
        case
          when funnel < 30 and step = 0 then 'signup.started'
          when funnel < 30 and step = 1 and c1 < 60 then 'signup.completed'
          when funnel < 30 and step = 2 and c1 < 60 and c2 < 45 then 'onboarding.completed'
          when funnel < 30 and step = 3 and c1 < 60 and c2 < 45 and c3 < 20 then 'plan.upgraded'
          when funnel >= 30 and funnel < 45 and step = 2 then 'cart.viewed'
          when funnel >= 30 and funnel < 45 and step = 3 and c1 < 50 then 'checkout.started'
          when funnel >= 30 and funnel < 45 and step = 4 and c1 < 50 and c2 < 70 then 'purchase.completed'
          else (${drawn})[1 + rnd % ${NAMES.reduce((a, [, w]) => a + w, 0)}]
        end as name,
        $4::timestamptz + make_interval(secs => 86000 * (case when uid % 5 = 0 then t else 0.25 + 0.6 * t * t end)
          + step * 90 + rnd % 60) as at
      from s
    )
    insert into events (source_id, event, distinct_id, "timestamp", received_at, country, properties)
    select (${`array[${sources.join(',')}]`})[case when src < 60 then 1 when src < 85 then 2 else 3 end],
      name,
      case when uid % 5 = 4 then 'anon-' || uid else 'user-' || uid end,
      at, at + make_interval(secs => rnd % 3),
      (${arr(COUNTRIES)})[1 + uid % ${COUNTRIES.length}],
      jsonb_build_object(
        'plan', (${arr(PLANS)})[1 + (uid / 7) % ${PLANS.length}],
        'country', (${arr(COUNTRIES)})[1 + uid % ${COUNTRIES.length}],
        'page', (${arr(PAGES)})[1 + rnd % ${PAGES.length}],
        'device', jsonb_build_object('os', (${arr(OSES)})[1 + uid % ${OSES.length}], 'browser', (${arr(BROWSERS)})[1 + (uid / 3) % ${BROWSERS.length}],
          'mobile', uid % 5 >= 3),
        'duration_ms', rnd % 20000,
        'session', sess
      ) || case when name = 'purchase.completed' then jsonb_build_object('amount', round((rnd % 50000) / 100.0, 2), 'items', 1 + rnd % 5) else '{}'::jsonb end
    from e`;
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
    const old = (await q(`select id from sources where name = any($1::text[])`, [SOURCES])).rows.map((r) => r.id as number);
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
    const sources = (await q(`insert into sources (name) select unnest($1::text[]) returning id`, [SOURCES])).rows.map((r) => r.id as number);
    await q(`select ensure_event_partitions((now() - make_interval(days => $1))::date, (now() + interval '1 month')::date)`, [options.days + 31]);

    // A large load goes in without the secondary indexes, rebuilt once at the end (much faster than row by row).
    const large = options.events >= 1_000_000;
    const indexes = large
      ? (await q(`select i.relname as name, pg_get_indexdef(i.oid) as def from pg_index x join pg_class i on i.oid = x.indexrelid
                  where x.indrelid = 'events'::regclass and not x.indisprimary`)).rows as { name: string; def: string }[]
      : [];
    for (const index of indexes) await q(`drop index ${index.name}`);

    const today = new Date();
    today.setUTCHours(0, 0, 0, 0);
    const counts = dailyCounts(options.events, options.days, today);
    const insert = dayInsert(sources);
    let done = 0;
    for (let i = 0; i < counts.length; i++) {
      const day = new Date(today.getTime() - (counts.length - 1 - i) * 86400_000);
      await q(insert, [done, counts[i], options.ids, day.toISOString()]);
      done += counts[i]!;
      options.onProgress?.({ phase: 'events', done, total: options.events });
    }
    // Sessions of today that would start after now are moved to just before it (events are never in the future).
    await q(`update events set "timestamp" = "timestamp" - interval '1 day', received_at = received_at - interval '1 day'
             where source_id = any($1::int[]) and "timestamp" > now() - interval '1 second'`, [sources]);
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
