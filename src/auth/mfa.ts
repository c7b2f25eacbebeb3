import { createHmac } from 'node:crypto';
import { HOTP, Secret, TOTP } from 'otpauth/bare';
import { sha256Hex } from '../lib/sql';

/**
 * The second factor (contract §10): TOTP per RFC 6238 with the parameters every authenticator app understands
 * (SHA-1, 6 digits, 30-second steps) and one step of drift either way, plus single-use recovery codes.
 * `otpauth` does the RFC arithmetic and the otpauth:// URI; its "bare" build takes the HMAC from workerd's native
 * node:crypto instead of bundling a JavaScript SHA family.
 */
export const TOTP_PARAMS = { algorithm: 'SHA1', digits: 6, period: 30 } as const;
const DRIFT_STEPS = 1;
const SECRET_BYTES = 20; // 160 bits, the HMAC-SHA-1 block-friendly size RFC 4226 recommends

const hmac = (algorithm: string, key: Uint8Array, message: Uint8Array) =>
  new Uint8Array(createHmac(algorithm.toLowerCase().replace('-', ''), key).update(message).digest());

export function newTotpSecret(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
}

/** The provisioning URI an authenticator app reads from a QR code, and the secret in base32 for typing. */
export function provisioning(secret: Uint8Array, issuer: string, account: string) {
  const totp = new TOTP({ ...TOTP_PARAMS, issuer, label: account, secret: new Secret({ buffer: secret.slice().buffer }), hmac });
  return { secret: totp.secret.base32, otpauthUri: totp.toString() };
}

/** The RFC 6238 time step (T) of a moment. */
export const stepAt = (ms: number) => TOTP.counter({ period: TOTP_PARAMS.period, timestamp: ms });

/** The code of one time step (used by tests and by nothing else at run time). */
export function codeAt(secret: Uint8Array, step: number, digits: number = TOTP_PARAMS.digits, algorithm: string = TOTP_PARAMS.algorithm) {
  return HOTP.generate({ secret: new Secret({ buffer: secret.slice().buffer }), algorithm, digits, counter: step, hmac });
}

/**
 * The time step a code belongs to, within one step of `now`, or null. Only a step after `lastStep` (the latest
 * accepted) counts, so a code is accepted at most once and never after a newer one; the caller records the step
 * with a compare-and-set so two concurrent uses of one code cannot both pass.
 */
export function matchStep(secret: Uint8Array, code: string, lastStep: number | null, now = Date.now()): number | null {
  const current = stepAt(now);
  const steps = [current];
  for (let d = 1; d <= DRIFT_STEPS; d++) steps.push(current - d, current + d);
  for (const step of steps) {
    if (lastStep !== null && step <= lastStep) continue;
    if (timingSafeEqual(codeAt(secret, step), code)) return step;
  }
  return null;
}

/** Equal-length strings compared without an early exit. */
export function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

const RECOVERY_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'; // RFC 4648 base32, lower case
export const RECOVERY_CODE_COUNT = 10;

/** Ten codes of 16 base32 characters (80 random bits each), shown as `xxxx-xxxx-xxxx-xxxx`. */
export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    const chars = [...bytes].map((b) => RECOVERY_ALPHABET[b & 31]).join('');
    return chars.match(/.{4}/g)!.join('-');
  });
}

/** What is hashed: case, spaces and dashes do not matter when a person types a code back. */
export const normaliseRecoveryCode = (code: string) => code.toLowerCase().replace(/[\s-]/g, '');

/** Recovery codes are stored only as SHA-256 (hex) of their normalised form; 80 random bits need no slow hash. */
export const recoveryCodeHash = (code: string) => sha256Hex(normaliseRecoveryCode(code));
