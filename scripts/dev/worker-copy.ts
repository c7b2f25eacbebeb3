/**
 * A private copy of what `wrangler dev` builds the Worker from, for the live stacks of the Node and browser tests and
 * the soak (scripts/dev/live-stack.ts).
 *
 * Why: `wrangler dev` keeps watching everything its bundle read (src/, the project's tsconfig.json and package.json),
 * its config and dist/assets; any change there makes it rebuild and swap the running Worker, and a POST in flight
 * during the swap is answered "503 Your worker restarted mid-request" (wrangler's ProxyWorker retries only GET and
 * HEAD). An edit, a checkout or a rebuild while the suite runs then fails an unrelated test. Run from a copy made at
 * the start, it watches files nobody changes. (Serving the deploy bundle with `--no-bundle` instead was tried and
 * dropped: wrangler then answered some POSTs with the same 503 under a burst of 429s, without any reload.)
 */
import { cpSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from './migrate';

export const WRANGLER = join(projectRoot, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
/** Set by test/node/build-setup.ts: the config of a copy made for the whole run. */
export const BUILT_CONFIG_ENV = 'DASHBOARD_TEST_WORKER_CONFIG';

/** Copies the Worker's sources into a new private folder and returns the path of the config to run there. */
export function buildWorker(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dashboard-api-worker-src-'));
  cpSync(join(projectRoot, 'src'), join(dir, 'src'), { recursive: true });
  for (const file of ['package.json', 'tsconfig.json']) cpSync(join(projectRoot, file), join(dir, file));
  symlinkSync(join(projectRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  // The console's built files stay where `npm run build:console` writes them.
  const config = readFileSync(join(projectRoot, 'wrangler.toml'), 'utf8').replace(
    /^directory\s*=\s*"\.\/(.*)"$/m,
    (_, d: string) => `directory = ${JSON.stringify(join(projectRoot, d))}`,
  );
  const path = join(dir, 'wrangler.toml');
  writeFileSync(path, `# Copied by scripts/dev/worker-copy.ts from the project's wrangler.toml.\n${config}`);
  return path;
}
