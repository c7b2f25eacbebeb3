/**
 * The floor for PASSWORD_HASH_PARAMS: OWASP's Password Storage Cheat Sheet lists equivalent scrypt settings, all with
 * r=8 — N=2^17 p=1, N=2^16 p=2, N=2^15 p=3, N=2^14 p=5, N=2^13 p=10 — trading memory (128·N·r bytes) for
 * parallel work (N·r·p). Parameters are accepted when some listed setting needs no more memory and no more work.
 */
const OWASP_SCRYPT = [
  { N: 2 ** 17, p: 1 },
  { N: 2 ** 16, p: 2 },
  { N: 2 ** 15, p: 3 },
  { N: 2 ** 14, p: 5 },
  { N: 2 ** 13, p: 10 },
].map(({ N, p }) => ({ memory: N * 8, work: N * 8 * p }));

/**
 * OWASP's equivalent Argon2id settings (all p=1): m=47104 t=1, m=19456 t=2, m=12288 t=3, m=9216 t=4, m=7168 t=5 (KiB).
 * Accepted when some listed setting needs no more memory and no more passes.
 */
const OWASP_ARGON2ID = [
  { m: 47104, t: 1 },
  { m: 19456, t: 2 },
  { m: 12288, t: 3 },
  { m: 9216, t: 4 },
  { m: 7168, t: 5 },
];

export const BELOW_OWASP =
  "is below OWASP's minimum (Argon2id m=19456,t=2,p=1 or an equivalent; scrypt N=2^17,r=8,p=1 or an equivalent such as N=2^14,r=8,p=5)";

function weakArgon2id(text: string): string | null {
  const m = /^argon2id:m=(\d+),t=(\d+),p=(\d+)$/.exec(text)!;
  const [memory, passes, lanes] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (memory < 8 || memory > 4 * 1024 * 1024 || passes < 1 || passes > 64 || lanes < 1 || lanes > 16) {
    return 'm must be 8..4194304 KiB, t 1..64 and p 1..16';
  }
  return OWASP_ARGON2ID.some((s) => memory >= s.m && passes >= s.t) ? null : BELOW_OWASP;
}

/** Why `text` is below the floor (or malformed), or null when it is fine. */
export function weakHashParams(text: string): string | null {
  if (text.startsWith('argon2id:') && /^argon2id:m=\d+,t=\d+,p=\d+$/.test(text)) return weakArgon2id(text);
  const m = /^N=(\d+),r=(\d+),p=(\d+)$/.exec(text);
  if (!m) return 'must look like argon2id:m=19456,t=2,p=1 or N=16384,r=8,p=5';
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (N < 2 || (N & (N - 1)) !== 0 || N > 2 ** 20) return 'N must be a power of two up to 2^20';
  if (r < 1 || r > 32 || p < 1 || p > 64) return 'r must be 1..32 and p 1..64';
  const ok = OWASP_SCRYPT.some((s) => N * r >= s.memory && N * r * p >= s.work);
  return ok ? null : BELOW_OWASP;
}
