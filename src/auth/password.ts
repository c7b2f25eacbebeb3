import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { argon2Hash, argon2Verify, type Argon2Params } from './argon2';
import { recordDerivation } from './hash-work';

/**
 * Two schemes, chosen by PASSWORD_HASH_PARAMS:
 * - `argon2id:m=19456,t=2,p=1` (the default): Argon2id at OWASP's first recommended setting, WebAssembly (./argon2.ts),
 *   stored as a PHC string `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`;
 * - `N=16384,r=8,p=5`: scrypt from `node:crypto` (native in workerd under `nodejs_compat`), stored as
 *   `$scrypt$N=16384,r=8,p=5$<salt>$<hash>` (base64), the scheme of version 1.
 * Both verify; a hash made with anything but the configured scheme and parameters is upgraded at sign-in.
 */
type Scheme = { kind: 'argon2id'; params: Argon2Params } | { kind: 'scrypt'; N: number; r: number; p: number };

const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

function parseParams(text: string): Scheme {
  const argon = /^argon2id:m=(\d+),t=(\d+),p=(\d+)$/.exec(text);
  if (argon) return { kind: 'argon2id', params: { m: Number(argon[1]), t: Number(argon[2]), p: Number(argon[3]) } };
  const m = /^N=(\d+),r=(\d+),p=(\d+)$/.exec(text);
  if (!m) throw new Error(`bad password hash parameters: ${text}`);
  return { kind: 'scrypt', N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
}

function derive(password: string, salt: Uint8Array, { N, r, p }: { N: number; r: number; p: number }, length: number): Promise<Buffer> {
  // Passwords are compared as typed, except for Unicode normalisation, so é typed two ways is one password.
  const input = password.normalize('NFC');
  return new Promise((resolve, reject) =>
    scrypt(input, salt, length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(password: string, params: string): Promise<string> {
  const scheme = parseParams(params);
  recordDerivation('hash', params);
  const salt = randomBytes(SALT_LENGTH);
  if (scheme.kind === 'argon2id') return argon2Hash(password, scheme.params, salt);
  const key = await derive(password, salt, scheme, KEY_LENGTH);
  return `$scrypt$${params}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const argon = /^\$argon2id\$v=19\$(m=\d+,t=\d+,p=\d+)\$/.exec(stored);
  if (argon) recordDerivation('verify', `argon2id:${argon[1]}`);
  if (stored.startsWith('$argon2id$')) return argon2Verify(password, stored);
  const [, algorithm, params, salt, hash] = stored.split('$');
  if (algorithm !== 'scrypt' || !params || !salt || !hash) return false;
  const scheme = parseParams(params);
  if (scheme.kind !== 'scrypt') return false;
  recordDerivation('verify', params);
  const expected = Buffer.from(hash, 'base64');
  const actual = await derive(password, Buffer.from(salt, 'base64'), scheme, expected.length);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** True when `stored` was made with another scheme or other parameters than the configured ones: re-hash it. */
export function needsRehash(stored: string, params: string): boolean {
  const scheme = parseParams(params);
  if (scheme.kind === 'argon2id') {
    const { m, t, p } = scheme.params;
    return !stored.startsWith(`$argon2id$v=19$m=${m},t=${t},p=${p}$`);
  }
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
