/**
 * Calendar arithmetic in an IANA zone with nothing but `Intl` (the Worker has no tz library): the local wall clock of
 * an instant, the instant of a local wall-clock time, and the interval starts of contract §14 (days, Monday weeks and
 * months at local midnight, hours at local :00). Used to resolve `last` ranges and to count a query's points before
 * it runs; the SQL computes the intervals of the answer itself (src/events/query/sql.ts), the same way.
 */

export type Unit = 'hour' | 'day' | 'week' | 'month';

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** The local wall clock of `ms` in `tz`, as the UTC milliseconds of the same wall-clock reading. */
export function wallClock(ms: number, tz: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const whole = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return whole + (((ms % 1000) + 1000) % 1000);
}

/** The offset of `tz` from UTC at the instant `ms`, in milliseconds (Asia/Kathmandu: +5:45). */
export const offsetAt = (ms: number, tz: string): number => wallClock(ms, tz) - ms;

/**
 * The instant whose wall clock in `tz` reads `wall` (UTC milliseconds of that reading). A reading that occurs twice
 * (clocks going back) is its later occurrence; one that does not occur (clocks going forward) is read with the offset
 * before the change, i.e. it lands after the gap: both as PostgreSQL's `timestamp AT TIME ZONE` does.
 */
export function fromWallClock(wall: number, tz: string): number {
  const before = offsetAt(wall - 86_400_000, tz);
  const after = offsetAt(wall + 86_400_000, tz);
  const first = wall - Math.max(before, after);
  const second = wall - Math.min(before, after);
  for (const candidate of [second, first]) if (wallClock(candidate, tz) === wall) return candidate;
  return wall - before;
}

const DAY = 86_400_000;

/** The wall-clock start (UTC ms of the reading) of the `unit` interval holding the wall-clock reading `wall`. */
export function truncWall(wall: number, unit: Exclude<Unit, 'hour'>): number {
  const d = new Date(Math.floor(wall / DAY) * DAY);
  if (unit === 'day') return d.getTime();
  if (unit === 'week') return d.getTime() - ((d.getUTCDay() + 6) % 7) * DAY;
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** `wall` moved by `n` units of the local calendar (months keep day 1, which is all they are used with). */
export function addWall(wall: number, unit: Exclude<Unit, 'hour'>, n: number): number {
  if (unit === 'day') return wall + n * DAY;
  if (unit === 'week') return wall + 7 * n * DAY;
  const d = new Date(wall);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes());
}

/** The start (an instant) of the local hour holding `ms`: local :00, at the offset the instant has. */
export function hourStart(ms: number, tz: string): number {
  const wall = wallClock(ms, tz);
  return ms - (((wall % 3_600_000) + 3_600_000) % 3_600_000);
}

/** The instant the `unit` interval holding `ms` starts, in `tz`. */
export function intervalStart(ms: number, unit: Unit, tz: string): number {
  if (unit === 'hour') return hourStart(ms, tz);
  return fromWallClock(truncWall(wallClock(ms, tz), unit), tz);
}

/**
 * How many `unit` intervals of `tz` the range [from, to) touches (the first and last may be partial). Hours step by
 * real hours (every zone's offset changes by whole hours, except Lord Howe's half-hour and Troll's two hours).
 */
export function intervalCount(from: number, to: number, unit: Unit, tz: string): number {
  const last = to - 1;
  if (unit === 'hour') return Math.floor((hourStart(last, tz) - hourStart(from, tz)) / 3_600_000) + 1;
  const a = truncWall(wallClock(from, tz), unit);
  const b = truncWall(wallClock(last, tz), unit);
  if (unit === 'month') {
    const da = new Date(a);
    const db = new Date(b);
    return (db.getUTCFullYear() - da.getUTCFullYear()) * 12 + db.getUTCMonth() - da.getUTCMonth() + 1;
  }
  return Math.round((b - a) / (unit === 'day' ? DAY : 7 * DAY)) + 1;
}

/** `last: { count, unit }` (§14): from the start of the current `unit` in `tz` and the count − 1 before it, to now. */
export function lastRange(count: number, unit: Unit, tz: string, now: number): { from: number; to: number } {
  if (unit === 'hour') return { from: hourStart(now, tz) - (count - 1) * 3_600_000, to: now };
  const current = truncWall(wallClock(now, tz), unit);
  return { from: fromWallClock(addWall(current, unit, -(count - 1)), tz), to: now };
}
