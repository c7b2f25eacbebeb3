import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * scrypt from `node:crypto`, which workerd runs natively under `nodejs_compat` (no JavaScript KDF burning CPU).
 * Stored as `$scrypt$N=16384,r=8,p=5$<salt>$<hash>` (base64) so parameters can be raised and old hashes upgraded.
 */
interface Params {
  N: number;
  r: number;
  p: number;
}

const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

function parseParams(text: string): Params {
  const m = /^N=(\d+),r=(\d+),p=(\d+)$/.exec(text);
  if (!m) throw new Error(`bad scrypt parameters: ${text}`);
  return { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
}

function derive(password: string, salt: Uint8Array, { N, r, p }: Params, length: number): Promise<Buffer> {
  // Passwords are compared as typed, except for Unicode normalisation, so é typed two ways is one password.
  const input = password.normalize('NFC');
  return new Promise((resolve, reject) =>
    scrypt(input, salt, length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(password: string, params: string): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await derive(password, salt, parseParams(params), KEY_LENGTH);
  return `$scrypt$${params}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [, algorithm, params, salt, hash] = stored.split('$');
  if (algorithm !== 'scrypt' || !params || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await derive(password, Buffer.from(salt, 'base64'), parseParams(params), expected.length);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** True when `stored` was made with other parameters than the configured ones: re-hash after a successful sign-in. */
export function needsRehash(stored: string, params: string): boolean {
  return !stored.startsWith(`$scrypt$${params}$`);
}

const dummies = new Map<string, Promise<string>>();

/**
 * A hash of nothing anyone knows, with the current parameters: verifying against it for an unknown email spends
 * the same work as a real check, so response time does not reveal which emails exist.
 */
export function dummyHash(params: string): Promise<string> {
  let hash = dummies.get(params);
  if (!hash) {
    hash = hashPassword(randomBytes(32).toString('base64'), params);
    dummies.set(params, hash);
  }
  return hash;
}
