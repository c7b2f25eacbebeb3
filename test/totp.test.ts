import { describe, expect, it } from 'vitest';
import { codeAt, matchStep, newRecoveryCodes, newTotpSecret, normaliseRecoveryCode, provisioning, stepAt } from '../src/auth/mfa';
import { isStale, seal, unseal } from '../src/auth/seal';
import { loadConfig } from '../src/env';
import { baseEnv } from './harness';

const ascii = (s: string) => new TextEncoder().encode(s);

// RFC 6238, Appendix B: the seeds and the 8-digit codes at each time.
const SEEDS = {
  SHA1: ascii('12345678901234567890'),
  SHA256: ascii('12345678901234567890123456789012'),
  SHA512: ascii('1234567890123456789012345678901234567890123456789012345678901234'),
};
const VECTORS: [number, string, keyof typeof SEEDS][] = [
  [59, '94287082', 'SHA1'],
  [59, '46119246', 'SHA256'],
  [59, '90693936', 'SHA512'],
  [1111111109, '07081804', 'SHA1'],
  [1111111109, '68084774', 'SHA256'],
  [1111111109, '25091201', 'SHA512'],
  [1111111111, '14050471', 'SHA1'],
  [1111111111, '67062674', 'SHA256'],
  [1111111111, '99943326', 'SHA512'],
  [1234567890, '89005924', 'SHA1'],
  [1234567890, '91819424', 'SHA256'],
  [1234567890, '93441116', 'SHA512'],
  [2000000000, '69279037', 'SHA1'],
  [2000000000, '90698825', 'SHA256'],
  [2000000000, '38618901', 'SHA512'],
  [20000000000, '65353130', 'SHA1'],
  [20000000000, '77737706', 'SHA256'],
  [20000000000, '47863826', 'SHA512'],
];

describe('RFC 6238 test vectors, inside workerd', () => {
  it.each(VECTORS)('T=%i gives %s with %s', (seconds, expected, algorithm) => {
    expect(codeAt(SEEDS[algorithm], stepAt(seconds * 1000), 8, algorithm)).toBe(expected);
  });

  it('6-digit codes are the last six digits of the vectors (the parameters the API uses)', () => {
    expect(codeAt(SEEDS.SHA1, stepAt(59_000))).toBe('287082');
    expect(codeAt(SEEDS.SHA1, stepAt(1111111109_000))).toBe('081804');
    expect(stepAt(59_000)).toBe(1);
    expect(stepAt(1111111109_000)).toBe(0x23523ec);
  });
});

describe('matchStep', () => {
  const secret = newTotpSecret();
  const now = 1_800_000_015_000; // 15 s into a step
  const step = stepAt(now);

  it('accepts the current step and one step of drift either way, not two', () => {
    expect(matchStep(secret, codeAt(secret, step), null, now)).toBe(step);
    expect(matchStep(secret, codeAt(secret, step - 1), null, now)).toBe(step - 1);
    expect(matchStep(secret, codeAt(secret, step + 1), null, now)).toBe(step + 1);
    expect(matchStep(secret, codeAt(secret, step - 2), null, now)).toBeNull();
    expect(matchStep(secret, codeAt(secret, step + 2), null, now)).toBeNull();
  });

  it('refuses a step at or before the last accepted one (replay)', () => {
    expect(matchStep(secret, codeAt(secret, step), step, now)).toBeNull();
    expect(matchStep(secret, codeAt(secret, step - 1), step, now)).toBeNull();
    expect(matchStep(secret, codeAt(secret, step + 1), step, now)).toBe(step + 1);
  });

  it('refuses wrong and malformed codes', () => {
    const right = codeAt(secret, step);
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
    expect(matchStep(secret, wrong, null, now)).toBeNull();
    expect(matchStep(secret, right.slice(1), null, now)).toBeNull();
    expect(matchStep(secret, `${right}0`, null, now)).toBeNull();
    expect(matchStep(newTotpSecret(), right, null, now)).toBeNull();
  });
});

describe('provisioning', () => {
  it('gives the base32 secret and an otpauth URI authenticator apps read', () => {
    const secret = ascii('12345678901234567890');
    const p = provisioning(secret, 'Dashboard Analytics', 'ada@example.com');
    expect(p.secret).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    const uri = new URL(p.otpauthUri);
    expect(uri.protocol).toBe('otpauth:');
    expect(p.otpauthUri).toMatch(/^otpauth:\/\/totp\/Dashboard%20Analytics:ada%40example\.com\?/);
    expect(Object.fromEntries(uri.searchParams)).toEqual({
      issuer: 'Dashboard Analytics',
      secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ',
      algorithm: 'SHA1',
      digits: '6',
      period: '30',
    });
  });
});

describe('recovery codes', () => {
  it('are ten distinct 80-bit codes, normalised for typing', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/);
    expect(normaliseRecoveryCode(' ABCD-efgh ijkl-MNOP ')).toBe('abcdefghijklmnop');
  });
});

describe('sealing TOTP secrets', () => {
  const key = (id: string) => `${id}:${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
  const oldKey = key('old');
  const newKey = key('new');
  const before = loadConfig({ ...baseEnv, MFA_ENCRYPTION_KEY: oldKey });
  const after = loadConfig({ ...baseEnv, MFA_ENCRYPTION_KEY: newKey, MFA_ENCRYPTION_PREVIOUS_KEYS: oldKey });
  const secret = newTotpSecret();

  it('round-trips, with a fresh IV each time, and never holds the plaintext', async () => {
    const a = await seal(before, secret, 'user:1');
    const b = await seal(before, secret, 'user:1');
    expect(a.keyId).toBe('old');
    expect(a.sealed).toHaveLength(12 + 20 + 16);
    expect(a.sealed).not.toEqual(b.sealed);
    expect(Buffer.from(a.sealed).includes(Buffer.from(secret))).toBe(false);
    expect(await unseal(before, a.keyId, a.sealed, 'user:1')).toEqual(secret);
  });

  it('refuses another account’s context and tampered bytes', async () => {
    const a = await seal(before, secret, 'user:1');
    await expect(unseal(before, a.keyId, a.sealed, 'user:2')).rejects.toThrow();
    const tampered = a.sealed.slice();
    tampered[20]! ^= 1;
    await expect(unseal(before, a.keyId, tampered, 'user:1')).rejects.toThrow();
  });

  it('rotates: the previous key still opens old rows, new rows use the new key', async () => {
    const old = await seal(before, secret, 'user:1');
    expect(await unseal(after, old.keyId, old.sealed, 'user:1')).toEqual(secret);
    expect(isStale(after, old.keyId)).toBe(true);
    const fresh = await seal(after, secret, 'user:1');
    expect(fresh.keyId).toBe('new');
    expect(isStale(after, fresh.keyId)).toBe(false);
    // Once the old key is dropped, its rows can no longer be opened.
    const dropped = loadConfig({ ...baseEnv, MFA_ENCRYPTION_KEY: newKey });
    await expect(unseal(dropped, old.keyId, old.sealed, 'user:1')).rejects.toThrow(/not configured/);
  });

  it('fails with a configuration error naming the variable when no key is set', async () => {
    const none = loadConfig({ ...baseEnv, MFA_ENCRYPTION_KEY: undefined });
    await expect(seal(none, secret, 'user:1')).rejects.toThrow(/MFA_ENCRYPTION_KEY/);
    expect(() => loadConfig({ ...baseEnv, MFA_ENCRYPTION_KEY: 'short' })).toThrow(/MFA_ENCRYPTION_KEY/);
  });
});
