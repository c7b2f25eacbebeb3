import type { FieldError } from '../lib/errors';

/** Contract §13's limits. */
export const MAX_EVENTS = 500;
export const MAX_PROPERTIES_BYTES = 16 * 1024;
const MAX_TEXT = 200;
const FUTURE_MS = 3600_000;
const PAST_MS = 366 * 24 * 3600_000;
const EVENT_FIELDS = new Set(['event', 'userId', 'anonymousId', 'timestamp', 'properties', 'messageId']);
// ISO 8601 date and time with a zone (Z or ±hh:mm); seconds and fractions optional.
const ISO_WITH_ZONE = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,9})?)?(Z|[+-]\d\d:\d\d)$/i;
// Unicode category Cc: C0 controls, DEL and C1 controls.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** An event as stored: validated and enriched by the ingest route, the body of a queue message's events. */
export interface StoredEvent {
  /** The route's own id for the event (a UUID): the exactly-once key of an event without messageId. */
  id: string;
  event: string;
  distinctId: string;
  timestamp: string;
  receivedAt: string;
  country: string | null;
  properties: Record<string, unknown>;
  messageId: string | null;
}

export interface Rejected {
  index: number;
  errors: FieldError[];
}

const codePoints = (s: string) => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

function text(value: unknown, path: string, errors: FieldError[], { controls = false } = {}): value is string {
  if (typeof value !== 'string') {
    errors.push({ path, message: 'must be a string' });
    return false;
  }
  const length = codePoints(value);
  if (length < 1 || length > MAX_TEXT) errors.push({ path, message: `must be 1..${MAX_TEXT} characters` });
  else if (controls && CONTROL.test(value)) errors.push({ path, message: 'must not contain control characters' });
  // PostgreSQL text cannot hold U+0000.
  else if (value.includes('\u0000')) errors.push({ path, message: 'must not contain the NUL character (U+0000)' });
  return errors.length === 0;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether a JSON value holds U+0000 in any string or key (jsonb cannot store it). */
function holdsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(holdsNul);
  if (isObject(value)) return Object.entries(value).some(([k, v]) => k.includes('\u0000') || holdsNul(v));
  return false;
}

const encoder = new TextEncoder();

/**
 * Validates one event of a batch (contract §13) and, when it holds, returns it enriched; otherwise the errors, with
 * paths inside the event (`timestamp`, `properties`, `properties.<key>`).
 */
export function validateEvent(input: unknown, now: number, country: string | null): StoredEvent | FieldError[] {
  if (!isObject(input)) return [{ path: '', message: 'must be an object' }];
  const errors: FieldError[] = [];
  for (const key of Object.keys(input)) if (!EVENT_FIELDS.has(key)) errors.push({ path: key, message: 'is not an accepted field' });
  const { event, userId, anonymousId, timestamp, properties, messageId } = input;
  text(event, 'event', errors, { controls: true });
  if (userId !== undefined) text(userId, 'userId', errors);
  if (anonymousId !== undefined) text(anonymousId, 'anonymousId', errors);
  if (userId === undefined && anonymousId === undefined) errors.push({ path: 'userId', message: 'userId or anonymousId is required' });
  if (messageId !== undefined) text(messageId, 'messageId', errors);
  let at = now;
  if (timestamp !== undefined) {
    const parsed = typeof timestamp === 'string' && ISO_WITH_ZONE.test(timestamp) ? Date.parse(timestamp) : Number.NaN;
    if (Number.isNaN(parsed)) errors.push({ path: 'timestamp', message: 'must be an ISO 8601 date and time with a zone' });
    else if (parsed > now + FUTURE_MS) errors.push({ path: 'timestamp', message: 'must be at most 1 hour in the future' });
    else if (parsed < now - PAST_MS) errors.push({ path: 'timestamp', message: 'must be at most 366 days in the past' });
    else at = parsed;
  }
  if (properties !== undefined) {
    if (!isObject(properties)) errors.push({ path: 'properties', message: 'must be a JSON object' });
    else {
      for (const key of Object.keys(properties)) {
        const length = codePoints(key);
        if (length < 1 || length > MAX_TEXT) errors.push({ path: `properties.${key}`, message: `keys must be 1..${MAX_TEXT} characters` });
      }
      if (encoder.encode(JSON.stringify(properties)).byteLength > MAX_PROPERTIES_BYTES) {
        errors.push({ path: 'properties', message: `must be at most ${MAX_PROPERTIES_BYTES} bytes as compact JSON` });
      } else if (holdsNul(properties)) errors.push({ path: 'properties', message: 'must not contain the NUL character (U+0000)' });
    }
  }
  if (errors.length > 0) return errors;
  return {
    id: crypto.randomUUID(),
    event: event as string,
    distinctId: (userId ?? anonymousId) as string,
    timestamp: new Date(at).toISOString(),
    receivedAt: new Date(now).toISOString(),
    country,
    properties: (properties ?? {}) as Record<string, unknown>,
    messageId: (messageId as string | undefined) ?? null,
  };
}

/** ISO 3166-1 alpha-2 from Cloudflare's `request.cf.country`; its "XX" (unknown) and "T1" (Tor) are no country. */
export function countryOf(cf: unknown): string | null {
  const country = isObject(cf) ? cf.country : undefined;
  return typeof country === 'string' && /^[A-Z]{2}$/.test(country) && country !== 'XX' ? country : null;
}
