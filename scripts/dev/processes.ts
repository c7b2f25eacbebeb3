/**
 * Child processes that must not outlive the benchmark: each runs in its own process group (wrangler spawns workerd,
 * `npm run dev` spawns a whole tree, part of it in groups of its own), and everything is stopped in reverse order
 * of start on normal exit, on an error, and on Ctrl-C / SIGTERM / SIGHUP.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';

type Cleanup = () => Promise<void> | void;
const cleanups: { name: string; run: Cleanup }[] = [];
let shuttingDown: Promise<void> | undefined;

/** Registers a clean-up step; steps run last-in first-out. Returns a function that unregisters it. */
export function onShutdown(name: string, run: Cleanup): () => void {
  const entry = { name, run };
  cleanups.push(entry);
  return () => {
    const at = cleanups.indexOf(entry);
    if (at >= 0) cleanups.splice(at, 1);
  };
}

/** Runs every registered clean-up step once (later calls wait for the first). */
export function shutdown(): Promise<void> {
  shuttingDown ??= (async () => {
    while (cleanups.length > 0) {
      const { name, run } = cleanups.pop()!;
      try {
        await run();
      } catch (error) {
        process.stderr.write(`clean-up "${name}" failed: ${(error as Error).message ?? error}\n`);
      }
    }
  })();
  return shuttingDown;
}

let signalled = false;
/** True once Ctrl-C (or SIGTERM/SIGHUP) arrived: failures after that are the shutdown's doing, not news. */
export const interrupted = () => signalled;

/** Ctrl-C and friends: clean up, then exit with the conventional 128 + signal code. */
export function handleSignals() {
  const codes = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
  for (const [signal, code] of Object.entries(codes)) {
    process.on(signal, () => {
      // npm and tsx pass the terminal's signal on as well: say it once.
      signalled = true;
      if (!shuttingDown) process.stderr.write(`\n${signal}: stopping everything the benchmark started…\n`);
      void shutdown().finally(() => process.exit(code));
    });
  }
}

/** Start time of a process (clock ticks since boot), so a recycled pid is never mistaken for one of ours. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Every live descendant of `root` (by parent pid, across process groups and sessions), with its start time. */
export function descendants(root: number): { pid: number; start: string }[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {}
  }
  const found: { pid: number; start: string }[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      const start = startTime(child);
      if (start) found.push({ pid: child, start });
      queue.push(child);
    }
  }
  return found;
}

function alive(pid: number, start?: string): boolean {
  const now = startTime(pid);
  if (!now) return false;
  if (start && now !== start) return false;
  // A zombie has exited already; only its parent's wait() is missing.
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Managed {
  child: ChildProcess;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  /** Signals the process group, waits up to `graceMs`, then SIGKILLs the group and any descendant left anywhere. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

/**
 * Spawns `command` detached (its own process group) and registers its stop for shutdown. Output goes to `logFile`
 * (a file, not a pipe: a pipe nobody drains would stall a server under load) or, without one, to pipes the caller
 * must read.
 */
export function spawnManaged(name: string, command: string, args: string[], options: SpawnOptions & { logFile?: string }): Managed {
  const { logFile, ...spawnOptions } = options;
  let child: ChildProcess;
  if (logFile) {
    const fd = openSync(logFile, 'a');
    child = spawn(command, args, { ...spawnOptions, detached: true, stdio: ['ignore', fd, fd] });
    closeSync(fd);
  } else {
    child = spawn(command, args, { ...spawnOptions, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  }
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    child.once('error', () => resolve('spawn-error'));
  });
  const pid = child.pid;
  let stopping: Promise<void> | undefined;
  const stop = (signal: NodeJS.Signals = 'SIGTERM', graceMs = 8000) => {
    stopping ??= (async () => {
      if (!pid) return;
      // Collected before signalling: once a parent is gone its orphans are re-parented and untraceable.
      const tree = descendants(pid);
      const running = () => child.exitCode === null && child.signalCode === null;
      // The group is signalled even when its leader has exited: members (workerd) may still be there.
      try {
        process.kill(-pid, signal);
      } catch {}
      if (running()) await Promise.race([exited, sleep(graceMs)]);
      // Descendants in other groups (e.g. the wrangler that npm run dev starts detached) get the same grace.
      const until = Date.now() + graceMs;
      while ((running() || tree.some((p) => alive(p.pid, p.start))) && Date.now() < until) await sleep(100);
      if (running() || tree.some((p) => alive(p.pid, p.start))) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {}
      }
      for (const p of tree) {
        if (alive(p.pid, p.start)) {
          try {
            process.kill(p.pid, 'SIGKILL');
          } catch {}
        }
      }
      if (running()) await Promise.race([exited, sleep(2000)]);
    })();
    return stopping;
  };
  const unregister = onShutdown(name, () => stop());
  return {
    child,
    exited,
    stop: (signal, graceMs) => {
      unregister();
      return stop(signal, graceMs);
    },
  };
}
