import { z } from '@hono/zod-openapi';
import { sql, type SQL } from 'drizzle-orm';
import { sqlDetail, sqlState } from '../../lib/db-errors';
import type { Context } from 'hono';
import type { Guard } from '../../auth/authorize';
import type { AppEnv } from '../../env';
import { validationFailed } from '../../lib/errors';
import { heavyQuery } from '../../lib/heavy-queries';

const NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;
// POSIX-style strings (`UTC+5`, `GMT-3`) are not zone names; in a TZ string their sign is inverted, so a client
// meaning "five hours ahead" would get five behind. `Etc/GMT+5` is a real IANA name and stays allowed.
const POSIX_LIKE = /^(UTC|GMT|UT)[+-]/i;

/** The runtime's IANA database decides; the canonical spelling (`europe/paris` → `Europe/Paris`) goes to SQL. */
export function canonicalZone(name: string): string | undefined {
  if (name.length > 64 || !NAME.test(name) || POSIX_LIKE.test(name)) return undefined;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

const MESSAGE = 'must be an IANA time zone name such as Europe/Paris';

export const Tz = z
  .string()
  .transform((name, ctx) => {
    const zone = canonicalZone(name);
    if (zone === undefined) ctx.addIssue({ code: 'custom', message: MESSAGE });
    return zone ?? z.NEVER;
  })
  .optional()
  .default('UTC')
  .openapi({
    param: { name: 'tz', in: 'query' },
    type: 'string',
    default: 'UTC',
    example: 'Europe/Paris',
    description: 'IANA time zone whose calendar days (and Monday-based weeks) the figures use. Offsets such as UTC+5 are refused.',
  });

/**
 * Runs a stats statement; a zone the runtime knows but the database's time zone data does not (they are updated
 * separately) is the client's 422, like any unknown name, rather than a 500.
 */
export async function inZone<T>(run: Promise<T>): Promise<T> {
  try {
    return await run;
  } catch (error) {
    const state = sqlState(error);
    if (state === '22023') throw validationFailed([{ path: 'tz', message: MESSAGE }]);
    // stats_untracked_span() (drizzle/0021): the span is over STATS_UNTRACKED_MAX_DAYS in a zone that is not tracked.
    if (state === 'P0A18') {
      const tracked = sqlDetail(error);
      throw validationFailed(
        [{ path: 'tz', message: `this zone is not tracked, which allows a shorter span; tracked zones: ${['UTC', tracked].filter(Boolean).join(', ')}` }],
        'Over this span the figures are kept only for tracked zones: choose one of them, or a shorter period.',
      );
    }
    throw error;
  }
}

/**
 * The gate of the mask scan (the `masks` branch of `trackedOr`): a span of at most STATS_UNTRACKED_MAX_DAYS days, and
 * one of the caller's heavy-query slots (src/lib/heavy-queries.ts).
 */
export const boundedMasks = (c: Context<AppEnv>, g: Guard, spanDays: number) => (masks: SQL) =>
  heavyQuery(c, g, sql`select case when stats_untracked_span(${spanDays}::int, ${c.var.config.STATS_UNTRACKED_MAX_DAYS}::int) then (${masks}) end`);

/** `day` (a date) as the instant its calendar day starts in `tz`. */
export const dayStart = (day: SQL, tz: string) => sql`(${day})::timestamp at time zone ${tz}`;

/** Today's date in `tz`. */
export const today = (tz: string) => sql`(now() at time zone ${tz})::date`;

/**
 * `(day, utc_day, mask)` for each calendar day in `tz` listed by `days` (SQL yielding a column `day`): the UTC days
 * that calendar day overlaps (one or two) and which of their quarter-hours it covers. Joining user_activity on
 * `utc_day` with `quarters & mask <> 0` tells which accounts were active on that day in `tz`, whatever its length.
 */
export function localSpans(days: SQL, tz: string): SQL {
  return sql`(
    select d.day, u.utc_day, activity_mask(u.utc_day, d.starts, d.ends) as mask
    from (select day, ${dayStart(sql`day`, tz)} as starts, ${dayStart(sql`day + 1`, tz)} as ends from (${days}) x) d
    cross join lateral (
      select g::date as utc_day
      from generate_series((d.starts at time zone 'UTC')::date, ((d.ends - interval '1 microsecond') at time zone 'UTC')::date, interval '1 day') g
    ) u
  )`;
}

/** The empty mask, to compare `quarters & mask` with. */
export const NO_QUARTERS = sql.raw(`repeat('0', 96)::bit(96)`);

/**
 * `rollup` when `tz` is tracked (a row of activity_zones, 0010_activity_zones), else `masks`: both are scalar
 * sub-selects of one statement, and only the branch the CASE takes is executed (the other stays "never executed").
 */
export const trackedOr = (tz: string, rollup: SQL, masks: SQL, gate: (masks: SQL) => SQL = (m) => m): SQL =>
  sql`select case when exists (select 1 from activity_zones where zone = ${tz}) then (${rollup}) else (${gate(masks)}) end as data`;
