/**
 * The platform suite: the Worker's bundle size (wrangler deploy --dry-run, plain and minified), one password hash of
 * each OWASP setting timed inside workerd while nothing else runs, and the wall time of `npm run dev` until ready.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../scripts/dev/migrate';
import { onShutdown, spawnManaged } from '../../scripts/dev/processes';
import { build, sizeOf, type BundleSize } from '../lib/bundle';
import { median } from '../lib/load';
import { fmt } from '../lib/table';
import { distinctFreePorts, log, LOGS, sleep } from '../lib/workers';
import type { Suite } from '../lib/suite';

// OWASP password-storage settings of equal strength, both timed in workerd: the default (Argon2id, WebAssembly) and
// the scrypt setting of version 1 (node:crypto, native). Interleaved samples, medians.
const HASH_SCHEMES = ['argon2id:m=19456,t=2,p=1', 'N=16384,r=8,p=5'];
const HASH_SAMPLES = 10;

type HashResult = { params: string; error?: string; samples?: number; medianMs?: number; roundTripMedianMs?: number; inWorkerMs?: number[] };
type DevStart = { readyMs?: number; reportedS?: number | null; stopMs?: number; exit?: number | string; error?: string };

async function timeHashes(floorUrl: string): Promise<HashResult[]> {
  const samples = new Map(HASH_SCHEMES.map((p) => [p, { inWorker: [] as number[], roundTrip: [] as number[] }]));
  for (let i = 0; i <= HASH_SAMPLES; i++) {
    for (const params of HASH_SCHEMES) {
      const t = performance.now();
      const res = await fetch(`${floorUrl}/hash?params=${encodeURIComponent(params)}`).catch(() => undefined);
      const ms = performance.now() - t;
      const body = res?.ok ? ((await res.json()) as { ms: number }) : undefined;
      if (!body) return [{ params, error: `GET /hash answered ${res?.status ?? 'nothing'}` }];
      if (i === 0) continue; // warm-up (and the Argon2 module's instantiation)
      samples.get(params)!.inWorker.push(body.ms);
      samples.get(params)!.roundTrip.push(ms);
    }
  }
  return [...samples].map(([params, s]) => ({ params, samples: HASH_SAMPLES, medianMs: median(s.inWorker), roundTripMedianMs: median(s.roundTrip), inWorkerMs: s.inWorker }));
}

/**
 * Wall time of `npm run dev` on fresh ports and a fresh data folder until it prints "ready in", then Ctrl-C.
 * npm run dev rewrites .dev.vars with the ports it used: the developer's file is restored byte for byte afterwards.
 */
async function measureDevStart(root: string): Promise<DevStart> {
  const devVars = join(projectRoot, '.dev.vars');
  const saved = existsSync(devVars) ? readFileSync(devVars) : undefined;
  const restore = () => {
    if (saved) writeFileSync(devVars, saved, { mode: 0o600 });
    else rmSync(devVars, { force: true });
  };
  const cancelRestore = onShutdown('restore .dev.vars', restore);
  const [port, pgPort, proxyPort] = await distinctFreePorts(3);
  const logFile = join(LOGS, 'npm-run-dev.log');
  writeFileSync(logFile, '');
  const started = performance.now();
  const proc = spawnManaged('npm run dev', 'npm', ['run', 'dev'], {
    cwd: projectRoot,
    env: {
      ...process.env,
      PORT: String(port),
      DEV_PG_PORT: String(pgPort),
      DEV_PROXY_PORT: String(proxyPort),
      DEV_PG_DATA: join(root, 'dev-pgdata'),
      DATABASE_URL: undefined,
      WRANGLER_SEND_METRICS: 'false',
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    },
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    writeFileSync(logFile, output);
  };
  proc.child.stdout!.on('data', collect);
  proc.child.stderr!.on('data', collect);
  try {
    let exited: number | string | undefined;
    void proc.exited.then((code) => (exited = code));
    const until = Date.now() + 120_000;
    while (!output.includes('ready in')) {
      if (exited !== undefined) throw new Error(`npm run dev exited (${exited}) before it was ready:\n${output.slice(-2000)}`);
      if (Date.now() > until) throw new Error(`npm run dev was not ready within 120 s:\n${output.slice(-2000)}`);
      await sleep(20);
    }
    const readyMs = performance.now() - started;
    const reported = /ready in ([\d.]+)s/.exec(output);
    const stopStarted = performance.now();
    await proc.stop('SIGINT', 15_000);
    return { readyMs: Math.round(readyMs), reportedS: reported ? Number(reported[1]) : null, stopMs: Math.round(performance.now() - stopStarted), exit: await proc.exited };
  } finally {
    await proc.stop('SIGINT', 15_000);
    restore();
    cancelRestore();
  }
}

const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;

// The minified size is only reported (its failure is not the run's): settled into a value or an error.
let minified: Promise<BundleSize | { minified: true; error: string }> | undefined;

export const platform: Suite = {
  summary: 'bundle size (plain, minified unless --quick), Argon2id and scrypt hashes inside workerd, npm run dev start-up',
  byDefault: true,
  beforeStack({ root, quick }) {
    if (quick) return;
    minified = build(root, 'app-minified', join(projectRoot, 'wrangler.toml'), true).then(
      (b) => sizeOf(b),
      (error: Error) => ({ minified: true as const, error: error.message.split('\n')[0]! }),
    );
  },
  async run(stack, { phase }) {
    // One password hash inside workerd, while nothing else runs (before the load, after the builds).
    const minifiedSize = await minified;
    log(`timing ${HASH_SAMPLES} password hashes in workerd…`);
    const passwordHash = await phase('hash', () => timeHashes(stack.base.floor));
    const bundle = [sizeOf(stack.builds.app), ...(minifiedSize ? [minifiedSize] : [])];
    return {
      results: { bundle, passwordHash },
      print: () => {
        for (const b of bundle) {
          const label = `${b.minified ? 'Bundle, minified' : 'Bundle'} (wrangler deploy --dry-run)`;
          if ('error' in b) console.log(`${label}: failed: ${b.error}`);
          else console.log(`${label}: ${kib(b.bytes)} raw, ${kib(b.gzipBytes)} gzip (${b.files.map((f) => f.file).join(', ')})`);
        }
        for (const h of passwordHash) {
          console.log(h.error ? `Password hash ${h.params}: ${h.error}`
            : `Password hash (${h.params}) in workerd: ${fmt(h.medianMs, 0)} ms median of ${HASH_SAMPLES} (request round trip ${fmt(h.roundTripMedianMs, 0)} ms)`);
        }
      },
    };
  },
  async afterStack({ root, phase }) {
    log('timing npm run dev (fresh ports and data folder) until "ready in", then Ctrl-C…');
    const dev = await phase('npm run dev', () => measureDevStart(root).catch((error: Error): DevStart => ({ error: error.message })));
    return {
      results: { npmRunDev: dev },
      print: () =>
        console.log(dev.error ? `npm run dev: ${dev.error.split('\n')[0]}`
          : `npm run dev: ready in ${fmt((dev.readyMs ?? 0) / 1000, 1)} s wall (it reported ${fmt(dev.reportedS, 1)} s); stopped ${fmt((dev.stopMs ?? 0) / 1000, 1)} s after Ctrl-C`),
    };
  },
};
