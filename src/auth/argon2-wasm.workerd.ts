/** In workerd: the .wasm bundled by wrangler as a compiled module (Workers cannot compile bytes at run time). */
import wasm from '@phi-ag/argon2/argon2.wasm';

export const instantiateArgon2 = (): Promise<WebAssembly.Instance> => WebAssembly.instantiate(wasm);
