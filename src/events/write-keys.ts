import { sql, type SQL } from 'drizzle-orm';

/**
 * Write keys (contract §13). `da_wk_` makes a leaked key recognisable to secret scanners; 32 random bytes (256 bits)
 * follow, base64url. Only SHA-256 of the key is stored: a key of that entropy needs no slow hash, and the lookup by
 * digest compares no secret byte by byte (the digest of a guessed key tells nothing about a real one).
 */
export const WRITE_KEY_PREFIX = 'da_wk_';
const SHOWN_PREFIX = 12;
const WRITE_KEY = /^da_wk_[A-Za-z0-9_-]{43}$/;

export interface NewWriteKey {
  key: string;
  /** The first 12 characters, kept in clear so a console can tell keys apart. */
  prefix: string;
  /** SHA-256 of the key, hex (the statement stores decode(hash, 'hex')). */
  hash: string;
}

const hex = (bytes: ArrayBuffer) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');

function base64url(bytes: Uint8Array): string {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

export async function hashWriteKey(key: string): Promise<string> {
  return hex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(key)));
}

export async function newWriteKey(): Promise<NewWriteKey> {
  const key = WRITE_KEY_PREFIX + base64url(crypto.getRandomValues(new Uint8Array(32)));
  return { key, prefix: key.slice(0, SHOWN_PREFIX), hash: await hashWriteKey(key) };
}

/** Whether a string can be a write key at all: anything else is refused without a database lookup. */
export const isWellFormedWriteKey = (key: string) => WRITE_KEY.test(key);

/**
 * Constant-time equality of two strings (the header's and the body's key): workerd's `timingSafeEqual` over their
 * digests, so neither the length nor a common prefix of the two shows in the time taken.
 */
export async function sameSecret(a: string, b: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [da, db] = await Promise.all([
    crypto.subtle.digest('SHA-256', encoder.encode(a)),
    crypto.subtle.digest('SHA-256', encoder.encode(b)),
  ]);
  const subtle = crypto.subtle as SubtleCrypto & { timingSafeEqual?: (x: ArrayBuffer, y: ArrayBuffer) => boolean };
  if (subtle.timingSafeEqual) return subtle.timingSafeEqual(da, db);
  // Node (scripts): the same comparison without early exit.
  const x = new Uint8Array(da);
  const y = new Uint8Array(db);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}

/** A key that works now: the current one, or a rotated one still in its grace, of a source not deleted. */
export const liveKey = (hash: string): SQL => sql`select k.source_id from source_keys k join sources s on s.id = k.source_id
  where k.key_hash = decode(${hash}, 'hex') and (k.expires_at is null or k.expires_at > now()) and s.deleted_at is null`;
