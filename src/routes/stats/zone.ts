import { z } from '@hono/zod-openapi';
import { sql, type SQL } from 'drizzle-orm';
import { sqlState } from '../../lib/db-errors';
import { validationFailed } from '../../lib/errors';

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
    if (sqlState(error) === '22023') throw validationFailed([{ path: 'tz', message: MESSAGE }]);
    throw error;
  }
}

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
export const trackedOr = (tz: string, rollup: SQL, masks: SQL): SQL =>
  sql`select case when exists (select 1 from activity_zones where zone = ${tz}) then (${rollup}) else (${masks}) end as data`;
