/**
 * Argon2id from the WebAssembly (SIMD) build of the reference implementation that @phi-ag/argon2 ships. Workers
 * refuse to compile WebAssembly from bytes at run time, so the .wasm is imported as a module that wrangler bundles
 * compiled (argon2-wasm.workerd.ts); it is instantiated once per isolate, on the first hash.
 *
 * Only the package's .wasm is used, called here directly: its JavaScript wrapper passes `password.length` (UTF-16
 * code units) as the byte length, so a non-ASCII password would be hashed truncated ('pässwörd' as 'pässwö').
 * Hashes are PHC strings, `$argon2id$v=19$m=…,t=…,p=…$salt$hash`, identical to the reference `argon2` command's.
 */
// package.json `imports`: the compiled-module import under workerd (wrangler, the vitest pool), a file read in Node.
import { instantiateArgon2 } from '#argon2-wasm';

export interface Argon2Params {
  m: number;
  t: number;
  p: number;
}

interface Exports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  malloc(size: number): number;
  free(ptr: number): void;
  argon2_encodedlen(t: number, m: number, p: number, saltLength: number, hashLength: number, type: number): number;
  argon2_hash(t: number, m: number, p: number, pwd: number, pwdLength: number, salt: number, saltLength: number,
    hash: number, hashLength: number, encoded: number, encodedLength: number, type: number, version: number): number;
  argon2_verify(encoded: number, pwd: number, pwdLength: number, type: number): number;
}

const ARGON2ID = 2;
const VERSION_13 = 0x13;
const HASH_LENGTH = 32;

let loaded: Promise<Exports> | undefined;
const argon2 = () =>
  (loaded ??= instantiateArgon2().then((instance) => {
    const exports = instance.exports as unknown as Exports;
    exports._initialize();
    return exports;
  }));

/** Copies `bytes` into wasm memory for the duration of `use`, then wipes and frees them. */
function withBytes<T>(wasm: Exports, chunks: Uint8Array[], use: (ptrs: number[]) => T): T {
  const ptrs = chunks.map((c) => wasm.malloc(Math.max(1, c.length)));
  try {
    chunks.forEach((c, i) => new Uint8Array(wasm.memory.buffer).set(c, ptrs[i]));
    return use(ptrs);
  } finally {
    chunks.forEach((c, i) => new Uint8Array(wasm.memory.buffer).fill(0, ptrs[i], ptrs[i]! + c.length));
    ptrs.forEach((p) => wasm.free(p));
  }
}

// Passwords are compared as typed, except for Unicode normalisation, so é typed two ways is one password.
const passwordBytes = (password: string) => new TextEncoder().encode(password.normalize('NFC'));

export async function argon2Hash(password: string, { m, t, p }: Argon2Params, salt: Uint8Array): Promise<string> {
  const wasm = await argon2();
  const encodedLength = wasm.argon2_encodedlen(t, m, p, salt.length, HASH_LENGTH, ARGON2ID);
  const pwd = passwordBytes(password);
  return withBytes(wasm, [pwd, salt, new Uint8Array(HASH_LENGTH), new Uint8Array(encodedLength)], ([pwdPtr, saltPtr, hashPtr, encodedPtr]) => {
    const status = wasm.argon2_hash(t, m, p, pwdPtr!, pwd.length, saltPtr!, salt.length, hashPtr!, HASH_LENGTH, encodedPtr!, encodedLength, ARGON2ID, VERSION_13);
    if (status !== 0) throw new Error(`argon2_hash failed (${status})`);
    return new TextDecoder().decode(new Uint8Array(wasm.memory.buffer, encodedPtr!, encodedLength - 1));
  });
}

/** The reference verifier: recomputes with the stored parameters and compares in constant time. */
export async function argon2Verify(password: string, stored: string): Promise<boolean> {
  const wasm = await argon2();
  const pwd = passwordBytes(password);
  const encoded = new TextEncoder().encode(`${stored}\0`);
  return withBytes(wasm, [encoded, pwd], ([encodedPtr, pwdPtr]) => wasm.argon2_verify(encodedPtr!, pwdPtr!, pwd.length, ARGON2ID) === 0);
}
