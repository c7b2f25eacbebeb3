/** In Node (the scripts: admin:create, the seed): the same .wasm read from disk and compiled, which Node allows. */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

export async function instantiateArgon2(): Promise<WebAssembly.Instance> {
  const bytes = await readFile(createRequire(import.meta.url).resolve('@phi-ag/argon2/argon2.wasm'));
  // Node answers { module, instance } for bytes (the Workers typings only know the Module overload).
  return ((await WebAssembly.instantiate(bytes)) as unknown as { instance: WebAssembly.Instance }).instance;
}
