/**
 * Builds the console and the offline API reference into dist/assets, the folder wrangler.toml [assets] serves.
 * Runs before `npm run dev`, `npm test` and `npm run deploy` (npm pre-scripts), and from the test setup when the
 * folder is missing. The Worker never imports any of it: the console reaches the Worker only through AppType (types).
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { contentSecurityPolicy, docsPolicy } from '../src/lib/csp';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'assets');
const require = createRequire(import.meta.url);

export async function buildConsole(): Promise<{ jsGzip: number; cssGzip: number }> {
  rmSync(out, { recursive: true, force: true });
  const result = await build({
    entryPoints: { app: join(root, 'console/src/main.tsx'), init: join(root, 'console/docs/init.ts') },
    outdir: join(out, 'console/assets'),
    entryNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const outputs = Object.entries(result.metafile.outputs).map(([file, meta]) => ({ file: join(root, file), meta }));
  const named = (entry: string, ext: string) => {
    const found = outputs.find((o) => o.meta.entryPoint?.endsWith(entry) && o.file.endsWith(ext)) ??
      outputs.find((o) => o.file.endsWith(ext) && o.meta.entryPoint === undefined && o.file.includes('/app-'));
    if (!found) throw new Error(`no ${ext} output for ${entry}`);
    return found.file;
  };
  const js = named('main.tsx', '.js');
  const css = outputs.find((o) => o.file.endsWith('.css'))!.file;
  const url = (file: string) => '/' + file.slice(out.length + 1);
  const html = readFileSync(join(root, 'console/index.html'), 'utf8')
    .replace('%CSS%', url(css))
    .replace('%JS%', url(js));
  writeFileSync(join(out, 'console/index.html'), html);

  // The API reference's standalone bundle and the few lines that start it (no inline script under the CSP).
  mkdirSync(join(out, 'docs'), { recursive: true });
  copyFileSync(require.resolve('@scalar/api-reference/browser/standalone.js'), join(out, 'docs/scalar.js'));
  copyFileSync(named('init.ts', '.js'), join(out, 'docs/init.js'));
  rmSync(named('init.ts', '.js'));

  writeFileSync(
    join(out, '_headers'),
    [
      '/console/*',
      `  Content-Security-Policy: ${contentSecurityPolicy}`,
      '  X-Content-Type-Options: nosniff',
      '  Referrer-Policy: no-referrer',
      '  X-Frame-Options: DENY',
      '  Cross-Origin-Opener-Policy: same-origin',
      '/console/assets/*',
      '  Cache-Control: public, max-age=31536000, immutable',
      '/docs/*',
      `  Content-Security-Policy: ${docsPolicy}`,
      '  X-Content-Type-Options: nosniff',
      '',
    ].join('\n'),
  );
  const gz = (file: string) => gzipSync(readFileSync(file)).byteLength;
  return { jsGzip: gz(js), cssGzip: gz(css) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = performance.now();
  const { jsGzip, cssGzip } = await buildConsole();
  const kib = (n: number) => (n / 1024).toFixed(1);
  console.log(
    `console built in ${Math.round(performance.now() - started)} ms: JS ${kib(jsGzip)} KiB + CSS ${kib(cssGzip)} KiB gzip (first load)`,
  );
}
