/**
 * Where a request's CPU goes: CPU time (user + system, from /proc) of each process tree the benchmark started,
 * split by program (workerd, node, postgres…), read before and after a run and divided by its responses.
 * Exited processes count too: their time is in their parent's reaped-children counters (a WebSocket's PostgreSQL
 * backend lives for one request).
 */
import { readFileSync } from 'node:fs';
import { descendants } from '../../scripts/dev/processes';

const TICK_MS = 10; // USER_HZ is 100 on Linux

function stat(pid: number): { comm: string; own: number; reaped: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
    return { comm, own: (Number(fields[11]) + Number(fields[12])) * TICK_MS, reaped: (Number(fields[13]) + Number(fields[14])) * TICK_MS };
  } catch {
    return undefined;
  }
}

/** CPU ms so far by `<group>:<program>`, over each root and everything below it. */
export function cpuSnapshot(roots: Record<string, number | undefined>): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const [group, root] of Object.entries(roots)) {
    if (!root) continue;
    for (const pid of [root, ...descendants(root).map((d) => d.pid)]) {
      const s = stat(pid);
      if (!s) continue;
      const key = `${group}:${s.comm.startsWith('postgres') ? 'postgres' : s.comm}`;
      totals[key] = (totals[key] ?? 0) + s.own + s.reaped;
    }
  }
  return totals;
}

/** CPU ms per response by `<group>:<program>` between two snapshots (entries under 0.01 ms left out). */
export function cpuPerRequest(before: Record<string, number>, after: Record<string, number>, responses: number): Record<string, number> {
  const out: Record<string, number> = {};
  if (responses <= 0) return out;
  for (const [key, ms] of Object.entries(after)) {
    const per = (ms - (before[key] ?? 0)) / responses;
    if (per >= 0.01) out[key] = Math.round(per * 100) / 100;
  }
  return out;
}

/** A direct child of `parent` running `comm` (e.g. the postmaster the benchmark started). */
export function childRunning(parent: number, comm: string): number | undefined {
  for (const { pid } of descendants(parent)) {
    try {
      const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent && text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')) === comm) return pid;
    } catch {}
  }
  return undefined;
}
