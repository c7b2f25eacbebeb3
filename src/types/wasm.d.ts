/** wrangler (and the vitest pool) bundle `.wasm` imports as compiled modules: Workers refuse to compile at run time. */
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
