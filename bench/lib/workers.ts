/** Starting and waiting for the processes a benchmark drives: `wrangler dev`, ports, their logs. */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { projectRoot } from '../../scripts/dev/migrate';
import { freePort } from '../../scripts/dev/postgres';
import type { Managed } from '../../scripts/dev/processes';

export const WRANGLER = join(projectRoot, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
export const RESULTS = join(projectRoot, 'bench', 'results');
export const LOGS = join(RESULTS, 'logs');

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const log = (line: string) => process.stderr.write(`${line}\n`);

export function wranglerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    WRANGLER_SEND_METRICS: 'false',
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    FORCE_COLOR: '0',
    NO_COLOR: '1',
    // The Worker gets its settings from the generated vars file only.
    DATABASE_URL: undefined,
    ...extra,
  };
}

export function tail(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

export function waitForPort(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => (socket.destroy(), resolve()));
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > until) reject(new Error(`nothing listens on port ${port} after ${ms} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** Polls `url` until it answers at all (any status): the Worker is up. Fails early if the process dies or the build fails. */
export async function waitForWorker(url: string, proc: Managed, logFile: string, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  let exited = false;
  void proc.exited.then(() => (exited = true));
  while (Date.now() < until) {
    if (exited) throw new Error(`wrangler dev exited before it served ${url}:\n${tail(logFile)}`);
    if (/Build failed|\[ERROR\] Could not resolve/.test(tail(logFile, 200))) {
      throw new Error(`wrangler dev could not build the Worker:\n${tail(logFile, 40)}`);
    }
    try {
      await fetch(url, { signal: AbortSignal.timeout(5000) });
      return;
    } catch {}
    await sleep(100);
  }
  throw new Error(`${url} did not answer within ${ms / 1000} s:\n${tail(logFile)}`);
}

export function compatibilityDate(file: string): string | undefined {
  return /^\s*compatibility_date\s*=\s*"([^"]+)"/m.exec(readFileSync(file, 'utf8'))?.[1];
}
