/**
 * For a benchmark this checkout does not run itself (version 1's, for the before/after table): turns wrangler dev's
 * DevTools network capture off (scripts/dev/devtools.ts) on every `wrangler dev` started from <dir>, as bench/run.ts does on
 * its own Workers, so both sides are measured alike. Usage: tsx bench/capture-off.ts <dir>; stop it with Ctrl-C.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import { disableNetworkCapture } from '../scripts/dev/devtools';

const dir = resolve(process.argv[2] ?? '.');
const done = new Set<number>();
const trying = new Set<number>();

function inspectorPorts(): number[] {
  const ports = new Set<number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (!args.some((a) => a.endsWith('wrangler.js')) || !args.includes('dev') || readlinkSync(`/proc/${entry}/cwd`) !== dir) continue;
      const at = args.indexOf('--inspector-port');
      if (at >= 0) ports.add(Number(args[at + 1]));
    } catch {}
  }
  return [...ports];
}

setInterval(() => {
  for (const port of inspectorPorts()) {
    if (done.has(port) || trying.has(port)) continue;
    trying.add(port);
    disableNetworkCapture(port, 5000)
      .then(() => {
        done.add(port);
        console.log(`network capture off on inspector port ${port}`);
      })
      .catch(() => {})
      .finally(() => trying.delete(port));
  }
}, 200);
