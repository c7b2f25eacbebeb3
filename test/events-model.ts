/**
 * The reference model of contract §14: each query kind as plain loops over an array of events, written to be read
 * beside the contract's text, not to be fast. test/events-properties.test.ts requires the SQL of src/events/query/ to
 * give exactly these answers. Shares nothing with the code under test but the parsed query type.
 */
import type { EventQuery, Filter, FunnelQuery, RetentionQuery, TrendsQuery } from '../src/events/query/schema';

export interface ModelEvent {
  id: number;
  source: number;
  event: string;
  distinctId: string;
  /** Milliseconds since the epoch. */
  ts: number;
  properties: Record<string, unknown>;
}

export interface ModelWorld {
  events: ModelEvent[];
  /** Source ids that are live (not deleted). */
  liveSources: number[];
}

// ---------------------------------------------------------------- local time, from Intl alone

const partsCache = new Map<string, Intl.DateTimeFormat>();
function localParts(ms: number, tz: string) {
  let f = partsCache.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    partsCache.set(tz, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(ms))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return { year: p.year!, month: p.month!, day: p.day!, hour: p.hour!, minute: p.minute!, second: p.second! };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
/** A calendar date as days since 1970-01-01 (so dates can be counted and stepped). */
const dayNumber = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d) / 86_400_000;
const dateText = (dayNo: number) => new Date(dayNo * 86_400_000).toISOString().slice(0, 10);

function localDay(ms: number, tz: string): number {
  const p = localParts(ms, tz);
  return dayNumber(p.year, p.month, p.day);
}

/** The local date (day number) an interval of `unit` holding local day `day` starts on. */
function startDay(day: number, unit: 'day' | 'week' | 'month'): number {
  if (unit === 'day') return day;
  const d = new Date(day * 86_400_000);
  if (unit === 'week') return day - ((d.getUTCDay() + 6) % 7); // Monday
  return dayNumber(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

function nextStart(day: number, unit: 'day' | 'week' | 'month'): number {
  if (unit === 'day') return day + 1;
  if (unit === 'week') return day + 7;
  const d = new Date(day * 86_400_000);
  return dayNumber(d.getUTCFullYear(), d.getUTCMonth() + 2, 1);
}

/** The instant the local hour holding `ms` starts (local :00, at the offset `ms` has). */
function hourStart(ms: number, tz: string): number {
  const p = localParts(ms, tz);
  return ms - p.minute * 60_000 - p.second * 1000 - (((ms % 1000) + 1000) % 1000);
}

function hourLabel(ms: number, tz: string): string {
  const p = localParts(ms, tz);
  const offsetMinutes = Math.round((Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(ms / 1000) * 1000) / 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** The intervals of [from, to) in `tz`, oldest first: their labels, and a function from an instant to its index. */
function intervals(unit: 'hour' | 'day' | 'week' | 'month', tz: string, from: number, to: number) {
  const labels: string[] = [];
  const keys: number[] = [];
  if (unit === 'hour') {
    for (let h = hourStart(from, tz); h < to; h += 3_600_000) {
      keys.push(h);
      labels.push(hourLabel(h, tz));
    }
    return { labels, indexOf: (ms: number) => keys.indexOf(hourStart(ms, tz)) };
  }
  const last = startDay(localDay(to - 1, tz), unit);
  for (let d = startDay(localDay(from, tz), unit); d <= last; d = nextStart(d, unit)) {
    keys.push(d);
    labels.push(dateText(d));
  }
  return { labels, indexOf: (ms: number) => keys.indexOf(startDay(localDay(ms, tz), unit)) };
}

// ---------------------------------------------------------------- JSON values

/** The value at a dotted path of object keys, or undefined when any step is missing or not an object. */
function propertyAt(properties: Record<string, unknown>, path: string): unknown {
  let value: unknown = properties;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && jsonEqual((a as any)[k], (b as any)[k]));
  }
  return a === b;
}

const utf8Length = (s: string) => new TextEncoder().encode(s).length;

/** Compact JSON text with object keys in PostgreSQL jsonb's order (shorter keys first, then by bytes). */
function compact(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(compact).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value).sort((a, b) => utf8Length(a) - utf8Length(b) || compareCodePoints(a, b));
    return `{${keys.map((k) => `${JSON.stringify(k)}:${compact((value as any)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Orders strings by Unicode code point (not by UTF-16 unit, as `<` does). */
export function compareCodePoints(a: string, b: string): number {
  const ca = Array.from(a, (c) => c.codePointAt(0)!);
  const cb = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) if (ca[i] !== cb[i]) return ca[i]! - cb[i]!;
  return ca.length - cb.length;
}

/** A breakdown value as §14 shows it: the JSON value, missing as null, an object or array as its compact text. */
function breakdownValue(e: ModelEvent, path: string): unknown {
  const v = propertyAt(e.properties, path);
  if (v === undefined) return null;
  return typeof v === 'object' && v !== null ? compact(v) : v;
}

function passes(e: ModelEvent, f: Filter): boolean {
  const v = propertyAt(e.properties, f.property);
  switch (f.op) {
    case 'eq':
      return v !== undefined && jsonEqual(v, f.value);
    case 'neq':
      return !(v !== undefined && jsonEqual(v, f.value));
    case 'in':
      return v !== undefined && (f.value as unknown[]).some((x) => jsonEqual(v, x));
    case 'contains':
      return typeof v === 'string' && v.toLowerCase().includes((f.value as string).toLowerCase());
    case 'gt':
      return typeof v === 'number' && v > (f.value as number);
    case 'gte':
      return typeof v === 'number' && v >= (f.value as number);
    case 'lt':
      return typeof v === 'number' && v < (f.value as number);
    case 'lte':
      return typeof v === 'number' && v <= (f.value as number);
    case 'is_set':
      return v !== undefined;
    case 'is_not_set':
      return v === undefined;
  }
}

const passesAll = (e: ModelEvent, filters: Filter[] | undefined) => (filters ?? []).every((f) => passes(e, f));

/** The events a query may consider at all: live sources, the query's sources, its top-level filters. */
function inScope(world: ModelWorld, q: EventQuery): ModelEvent[] {
  return world.events.filter(
    (e) => world.liveSources.includes(e.source) && (!q.sources?.length || q.sources.includes(e.source)) && passesAll(e, q.filters),
  );
}

/** Orders groups by a count descending, then by the compact JSON text of their value by code point. */
function rank<T extends { value: unknown; count: number }>(groups: T[]): T[] {
  return [...groups].sort((a, b) => b.count - a.count || compareCodePoints(JSON.stringify(a.value), JSON.stringify(b.value)));
}

// ---------------------------------------------------------------- the three kinds

export function modelTrends(world: ModelWorld, q: TrendsQuery) {
  const { from, to } = q.range;
  const { labels, indexOf } = intervals(q.interval, q.tz, from, to);
  const data: { series: number; breakdown: unknown; total: number; points: { t: string; value: number }[] }[] = [];
  const scoped = inScope(world, q);
  q.series.forEach((s, i) => {
    const events = scoped.filter((e) => e.event === s.event && e.ts >= from && e.ts < to && passesAll(e, s.filters));
    const measure = (subset: ModelEvent[]) => (s.math === 'total' ? subset.length : new Set(subset.map((e) => e.distinctId)).size);
    const entry = (breakdown: unknown, subset: ModelEvent[]) => ({
      series: i,
      breakdown,
      total: measure(subset),
      points: labels.map((t, b) => ({ t, value: measure(subset.filter((e) => indexOf(e.ts) === b)) })),
    });
    if (!q.breakdown) {
      data.push(entry(null, events));
      return;
    }
    const path = q.breakdown.property;
    const byValue = new Map<string, { value: unknown; events: ModelEvent[] }>();
    for (const e of events) {
      const value = breakdownValue(e, path);
      const key = JSON.stringify(value);
      if (!byValue.has(key)) byValue.set(key, { value, events: [] });
      byValue.get(key)!.events.push(e);
    }
    const ranked = rank([...byValue.values()].map((g) => ({ ...g, count: measure(g.events) })));
    const top = ranked.slice(0, q.breakdown.limit);
    for (const g of top) data.push(entry(g.value, g.events));
    const rest = ranked.slice(q.breakdown.limit);
    if (rest.length > 0) data.push(entry('$other', rest.flatMap((g) => g.events)));
  });
  return { data };
}

/** The most steps one id reaches: every chain e1..ek tried (depth first), as the contract defines a chain. */
function stepsReached(events: ModelEvent[], q: FunnelQuery): number {
  const { from, to } = q.range;
  const matches = (e: ModelEvent, step: number) => e.event === q.steps[step]!.event && passesAll(e, q.steps[step]!.filters);
  let best = 0;
  const extend = (level: number, last: ModelEvent, deadline: number, used: Set<ModelEvent>) => {
    best = Math.max(best, level);
    if (level === q.steps.length || best === q.steps.length) return;
    for (const e of events) {
      if (!used.has(e) && e.ts >= last.ts && e.ts <= deadline && matches(e, level)) {
        used.add(e);
        extend(level + 1, e, deadline, used);
        used.delete(e);
      }
    }
  };
  for (const e1 of events) {
    if (e1.ts >= from && e1.ts < to && matches(e1, 0)) extend(1, e1, e1.ts + q.windowSeconds * 1000, new Set([e1]));
  }
  return best;
}

export function modelFunnel(world: ModelWorld, q: FunnelQuery) {
  const { from, to } = q.range;
  const scoped = inScope(world, q);
  const ids = [...new Set(scoped.map((e) => e.distinctId))];
  const people: { value: unknown; reached: number }[] = [];
  for (const id of ids) {
    const own = scoped.filter((e) => e.distinctId === id);
    const firsts = own
      .filter((e) => e.ts >= from && e.ts < to && e.event === q.steps[0]!.event && passesAll(e, q.steps[0]!.filters))
      .sort((a, b) => a.ts - b.ts || a.id - b.id);
    if (firsts.length === 0) continue;
    people.push({ value: q.breakdown ? breakdownValue(firsts[0]!, q.breakdown.property) : null, reached: stepsReached(own, q) });
  }
  const entry = (breakdown: unknown, group: { reached: number }[]) => ({
    breakdown,
    steps: q.steps.map((s, k) => ({ event: s.event, count: group.filter((p) => p.reached >= k + 1).length })),
  });
  if (!q.breakdown) return { data: [entry(null, people)] };
  const byValue = new Map<string, { value: unknown; people: typeof people }>();
  for (const p of people) {
    const key = JSON.stringify(p.value);
    if (!byValue.has(key)) byValue.set(key, { value: p.value, people: [] });
    byValue.get(key)!.people.push(p);
  }
  const ranked = rank([...byValue.values()].map((g) => ({ ...g, count: g.people.length })));
  const data = ranked.slice(0, q.breakdown.limit).map((g) => entry(g.value, g.people));
  const rest = ranked.slice(q.breakdown.limit);
  if (rest.length > 0) data.push(entry('$other', rest.flatMap((g) => g.people)));
  return { data };
}

export function modelRetention(world: ModelWorld, q: RetentionQuery) {
  const { from, to } = q.range;
  const { labels, indexOf } = intervals(q.interval, q.tz, from, to);
  const scoped = inScope(world, q);
  const firstStart = new Map<string, number>();
  for (const e of scoped) {
    if (e.event === q.startEvent && (!firstStart.has(e.distinctId) || e.ts < firstStart.get(e.distinctId)!)) firstStart.set(e.distinctId, e.ts);
  }
  const data = labels.map((cohort, c) => {
    const members = [...firstStart].filter(([, ts]) => ts >= from && ts < to && indexOf(ts) === c).map(([id]) => id);
    const active = labels.slice(c).map((_, k) =>
      members.filter((id) =>
        scoped.some(
          (e) => e.distinctId === id && (q.returnEvent === undefined || e.event === q.returnEvent) && e.ts >= from && e.ts < to && indexOf(e.ts) === c + k,
        ),
      ).length,
    );
    return { cohort, size: members.length, active };
  });
  return { data };
}

export function model(world: ModelWorld, q: EventQuery) {
  if (q.kind === 'trends') return modelTrends(world, q);
  if (q.kind === 'funnel') return modelFunnel(world, q);
  return modelRetention(world, q);
}
