/**
 * Global-scope time of the Worker's main module, as `wrangler deploy --dry-run` builds it: the time V8 takes to
 * compile and evaluate it (every top-level statement: the zod schemas, the routes, the OpenAPI registry), median and
 * minimum of fresh Node processes (same V8 family as workerd). The WebAssembly import is replaced by a stub, since
 * Node cannot import a .wasm module; nothing at the top level uses it. Usage: `tsx bench/global-scope.ts [runs]`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const runs = Number(process.argv[2] ?? 9);
const dir = mkdtempSync(join(tmpdir(), 'global-scope-'));
try {
  execFileSync(process.execPath, ['node_modules/wrangler/bin/wrangler.js', 'deploy', '--dry-run', '--outdir', dir], { stdio: 'ignore' });
  const wasm = readdirSync(dir).filter((f) => f.endsWith('.wasm'));
  let main = readFileSync(join(dir, 'index.js'), 'utf8');
  for (const w of wasm) main = main.replaceAll(`"./${w}"`, '"./wasm-stub.mjs"');
  writeFileSync(join(dir, 'index.mjs'), main);
  writeFileSync(join(dir, 'wasm-stub.mjs'), 'export default {};\n');
  const code = `const t = performance.now(); await import(${JSON.stringify(join(dir, 'index.mjs'))}); console.log(performance.now() - t);`;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
    if (r.status) throw new Error(r.stderr.slice(0, 1000));
    times.push(Number(r.stdout.trim()));
  }
  times.sort((a, b) => a - b);
  console.log(`global scope of the main module: median ${times[runs >> 1]!.toFixed(1)} ms, min ${times[0]!.toFixed(1)} ms over ${runs} processes`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
