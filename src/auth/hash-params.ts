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

export const BELOW_OWASP = "is below OWASP's minimum for scrypt (N=2^17,r=8,p=1 or an equivalent such as N=2^14,r=8,p=5)";

/** Why `text` is below the floor (or malformed), or null when it is fine. */
export function weakHashParams(text: string): string | null {
  const m = /^N=(\d+),r=(\d+),p=(\d+)$/.exec(text);
  if (!m) return 'must look like N=16384,r=8,p=5';
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (N < 2 || (N & (N - 1)) !== 0 || N > 2 ** 20) return 'N must be a power of two up to 2^20';
  if (r < 1 || r > 32 || p < 1 || p > 64) return 'r must be 1..32 and p 1..64';
  const ok = OWASP_SCRYPT.some((s) => N * r >= s.memory && N * r * p >= s.work);
  return ok ? null : BELOW_OWASP;
}
