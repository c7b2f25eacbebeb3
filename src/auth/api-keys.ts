import { sha256Hex } from '../lib/sql';
import { timingSafeEqual } from './mfa';

/**
 * The personal API key format (contract §16), after GitHub's tokens: `dak_` + 43 base62 characters of randomness
 * (43 × log2 62 ≈ 256.03 bits) + a 6-character base62 CRC32 of everything before it. The fixed prefix lets secret
 * scanners recognise a leaked key; the checksum lets the Worker refuse a mistyped or made-up key without asking the
 * database. Only the key's SHA-256 is stored; `prefix` (the first 12 characters) is what lists show to tell keys apart.
 */
export const API_KEY_PREFIX = 'dak_';
const RANDOM_LENGTH = 43;
const CHECKSUM_LENGTH = 6;
const SHOWN_LENGTH = API_KEY_PREFIX.length + 8;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SHAPE = new RegExp(`^${API_KEY_PREFIX}([0-9A-Za-z]{${RANDOM_LENGTH}})([0-9A-Za-z]{${CHECKSUM_LENGTH}})$`);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, as zlib and GitHub's tokens use) of an ASCII string. */
export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) crc = CRC_TABLE[(crc ^ text.charCodeAt(i)) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function checksum(body: string): string {
  let value = crc32(body);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[value % 62]! + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/** Uniform base62 from random bytes: a byte ≥ 248 (= 4 × 62) is dropped, so no character is more likely than another. */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

export interface NewApiKey {
  key: string;
  prefix: string;
  /** SHA-256 of the key, hex: the only form stored. */
  hash: string;
}

export async function newApiKey(): Promise<NewApiKey> {
  const body = API_KEY_PREFIX + randomBase62(RANDOM_LENGTH);
  const key = body + checksum(body);
  return { key, prefix: key.slice(0, SHOWN_LENGTH), hash: await sha256Hex(key) };
}

/** Whether a credential is meant as an API key (its prefix), whatever the rest looks like. */
export const looksLikeApiKey = (credential: string) => credential.startsWith(API_KEY_PREFIX);

/**
 * The SHA-256 (hex) of a well-formed key whose checksum matches, or null: a typo or an invented key is refused here,
 * before any database statement. The checksum is compared in constant time (it is derived from the secret).
 */
export async function apiKeyHash(key: string): Promise<string | null> {
  const match = SHAPE.exec(key);
  if (!match) return null;
  if (!timingSafeEqual(checksum(API_KEY_PREFIX + match[1]!), match[2]!)) return null;
  return sha256Hex(key);
}
