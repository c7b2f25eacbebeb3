/**
 * Builds the Worker's lazily loaded libraries into src/vendor/lazy/*.js (git-ignored): one self-contained ES module per
 * library that a few routes need and every other request should not pay for at start-up. wrangler.toml uploads them
 * as modules of their own (`find_additional_modules` with an ESModule rule), so `await import('…/lazy/x.js')` loads
 * one only when a route first needs it; the main module and the isolate's start-up stay without them. Each is a leaf
 * (it imports nothing of ours), so bundling it apart duplicates nothing. Types come from the `.d.ts` beside each.
 * Runs as part of `npm run build:console` (before dev, test and deploy).
 */
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Output name → the library it holds (each re-exported whole). */
export const LAZY_MODULES = {
  webauthn: '@simplewebauthn/server',
  oauth: 'oauth4webapi',
} as const;

export async function buildLazyModules(): Promise<void> {
  await Promise.all(
    Object.entries(LAZY_MODULES).map(([name, pkg]) =>
      build({
        stdin: { contents: `export * from '${pkg}';`, resolveDir: root, loader: 'js' },
        outfile: join(root, 'src/vendor/lazy', `${name}.js`),
        bundle: true,
        minify: true,
        format: 'esm',
        platform: 'neutral',
        target: 'es2022',
        // workerd's own modules (nodejs_compat), as wrangler leaves them for the main module.
        external: ['node:*', 'cloudflare:*'],
        conditions: ['workerd', 'worker', 'browser'],
        mainFields: ['module', 'main'],
        legalComments: 'none',
        logLevel: 'warning',
      }),
    ),
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = performance.now();
  await buildLazyModules();
  console.log(`lazy Worker modules built in ${Math.round(performance.now() - started)} ms: ${Object.keys(LAZY_MODULES).join(', ')}`);
}
