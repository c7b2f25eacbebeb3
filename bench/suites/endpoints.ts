/**
 * The endpoints suite: interleaved rounds (A B C … A B C …) of autocannon over every endpoint of bench/lib/endpoints.ts on
 * both transports; per endpoint the median over rounds of req/s, p50, p99 and errors, statements per request (from
 * Server-Timing), database round trips per request (the proxy's count) and CPU per request by process.
 */
import { cpuPerRequest, cpuSnapshot } from '../lib/cpu';
import { median, type LoadResult } from '../lib/load';
import type { Stack } from '../lib/stack';
import { fmt, printTable } from '../lib/table';
import { label, type Transport, type Variant, type WorkerName } from '../lib/variants';
import { log } from '../lib/workers';
import type { Endpoint } from '../lib/endpoints';
import type { Suite } from '../lib/suite';

export interface EndpointReport {
  name: string;
  worker: WorkerName;
  transport?: Transport;
  /** CPU ms per response by `<process tree>:<program>` (lib/cpu.ts), median over rounds. */
  cpuMsPerRequest?: Record<string, number>;
  /** Database round trips per request, as charged by the stand-in's latency model (TCP/TLS/upgrade included). */
  roundTripsPerRequest?: number | null;
  method: string;
  path: string;
  note?: string;
  floor?: Endpoint['floor'];
  rounds: LoadResult[];
  /** 2xx answers by the statement count their Server-Timing reported (all rounds). */
  statements: Record<string, number>;
  /** The most common of those: statements per request. */
  statementsPerRequest?: number | null;
  median?: { rps: number; p50: number; p99: number; errors: number; non2xx: number; socketErrors: number };
  statuses: Record<string, number>;
  p50OverDbFloor?: number;
}

const cpuNow = (stack: Stack) => ({ ...cpuSnapshot(stack.cpuRoots), 'bench:load': process.cpuUsage().user / 1000 + process.cpuUsage().system / 1000 });

async function loadRounds(stack: Stack, variants: Variant[], phase: (name: string, work: () => Promise<void>) => Promise<void>) {
  const { config } = stack;
  const reports: EndpointReport[] = variants.map(({ endpoint: e, worker, transport }) => ({
    name: e.name, worker, transport, method: e.method, path: typeof e.path === 'function' ? '(computed)' : e.path,
    note: e.note, floor: e.floor, rounds: [], statuses: {}, statements: {},
  }));
  const roundTrips: number[][] = variants.map(() => []);
  const cpu: Record<string, number>[][] = variants.map(() => []);
  const overhead = { settleMs: 0, prepareMs: 0, runOverheadMs: 0 };
  await phase('load', async () => {
    for (let round = 1; round <= config.rounds; round++) {
      const prepStarted = performance.now();
      await stack.prepareRound(round === 1);
      overhead.prepareMs += performance.now() - prepStarted;
      for (const [i, v] of variants.entries()) {
        const e = v.endpoint;
        const report = reports[i]!;
        const durationS = Math.max(config.durationS, e.minDurationS ?? 0);
        const runStarted = performance.now();
        const before = await stack.proxyStats();
        const request = stack.requestFor(v);
        report.path = request.path;
        const cpuBefore = cpuNow(stack);
        const result = await stack.run(v, durationS, request);
        cpu[i]!.push(cpuPerRequest(cpuBefore, cpuNow(stack), result.responses));
        const after = await stack.proxyStats();
        overhead.runOverheadMs += performance.now() - runStarted - durationS * 1000;
        report.rounds.push(result);
        if (before && after && result.responses > 0) roundTrips[i]!.push((after.roundTrips - before.roundTrips) / result.responses);
        for (const [status, n] of Object.entries(result.statuses)) report.statuses[status] = (report.statuses[status] ?? 0) + n;
        for (const [k, n] of Object.entries(result.statements)) report.statements[k] = (report.statements[k] ?? 0) + n;
        log(`[round ${round}/${config.rounds}] ${label(report).padEnd(40)} ${result.rps.toFixed(0).padStart(6)} req/s  ` +
          `p50 ${result.p50.toFixed(1).padStart(6)} ms  p99 ${result.p99.toFixed(1).padStart(7)} ms  errors ${result.errors}`);
        if (round === 1 && !e.floor && result.responses > 0 && result.statuses['404'] === result.responses) stack.note(`${e.name} answered only 404 (route missing?)`);
        const last = round === config.rounds && i === variants.length - 1;
        if (!last) {
          const t = performance.now();
          await stack.settle(v.worker);
          overhead.settleMs += performance.now() - t;
        }
      }
    }
  });
  for (const [i, r] of reports.entries()) {
    r.roundTripsPerRequest = roundTrips[i]!.length ? median(roundTrips[i]!) : null;
    const keys = [...new Set(cpu[i]!.flatMap((c) => Object.keys(c)))].sort();
    r.cpuMsPerRequest = Object.fromEntries(keys.map((k) => [k, median(cpu[i]!.map((c) => c[k] ?? 0))]));
    const m = (pick: (x: LoadResult) => number) => median(r.rounds.map(pick));
    r.median = { rps: m((x) => x.rps), p50: m((x) => x.p50), p99: m((x) => x.p99), errors: m((x) => x.errors), non2xx: m((x) => x.non2xx), socketErrors: m((x) => x.socketErrors) };
    const top = Object.entries(r.statements).sort((a, b) => b[1] - a[1])[0];
    r.statementsPerRequest = top ? (top[0] === 'none' ? 0 : Number(top[0])) : null;
  }
  return { reports, overhead };
}

/** HTTP ÷ WebSocket req/s per API endpoint of the run, the app's no-op floor marked. */
function transportRatios(reports: EndpointReport[]) {
  return reports
    .filter((e) => e.transport === 'http' && e.worker === 'app')
    .map((e) => ({ e, ws: reports.find((w) => w.name === e.name && w.transport === 'websocket') }))
    .filter(({ e, ws }) => e.median && ws?.median && ws.median.rps > 0)
    .map(({ e, ws }) => ({ name: e.name, floor: e.floor === 'app', ratio: e.median!.rps / ws!.median!.rps }));
}

function printEndpoints(reports: EndpointReport[], stack: Stack) {
  const { config } = stack;
  const rows = reports.map((e) => {
    const statuses = Object.entries(e.statuses).sort((a, b) => b[1] - a[1]);
    return [
      label(e),
      statuses.length ? statuses.map(([s]) => s).slice(0, 2).join('/') : '–',
      fmt(e.median?.rps, 0), fmt(e.median?.p50, 2), fmt(e.median?.p99, 2), fmt(e.median?.errors, 0),
      e.statementsPerRequest === null || e.statementsPerRequest === undefined ? '–' : String(e.statementsPerRequest),
      fmt(e.roundTripsPerRequest, 2), fmt(e.p50OverDbFloor, 2),
    ];
  });
  console.log('');
  console.log(`Median of ${config.rounds} round(s) × ${config.durationS} s, ${config.connections} connections; ` +
    `${config.users.toLocaleString('en-US')} users / ${config.events.toLocaleString('en-US')} events (seeded in ${(stack.seeded.ms / 1000).toFixed(1)} s)`);
  printTable(['endpoint', 'status', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'stmts/req', 'db RT/req', 'p50 ÷ db floor'], rows, { left: 2, rule: true });
  console.log('');
  // HTTP against WebSocket on every API endpoint, from the same run.
  const ratios = transportRatios(reports);
  if (ratios.length) {
    const floor = ratios.find((r) => r.floor);
    const off = floor ? Math.abs(floor.ratio - 1) > 0.1 : true;
    console.log(`req/s, HTTP ÷ WebSocket: ${ratios.filter((r) => !r.floor).map((r) => `${r.name} ${r.ratio.toFixed(2)}×`).join(', ')}`);
    console.log(`  the same run's ratio of identical work (the API's no-op on both Workers): ${floor ? `${floor.ratio.toFixed(2)}×` : 'not measured'}` +
      (off ? ' — off by more than 10 %: the two Workers did not get the same machine; re-run before publishing' : '') + '\n');
  }
  // CPU per request by process: the Worker's workerd, wrangler's Node process, the stand-in, PostgreSQL, autocannon.
  const cpuRows = reports.filter((e) => e.cpuMsPerRequest && Object.keys(e.cpuMsPerRequest).length).map((e) => {
    const c = e.cpuMsPerRequest!;
    const cells = [c[`${e.worker}:workerd`], c[`${e.worker}:node`], c['stand-in:node'], c['postgres:postgres'], c['bench:load']];
    return [label(e), ...cells.map((x) => fmt(x ?? 0, 2)), fmt(Object.values(c).reduce((a, b) => a + b, 0), 2)];
  });
  if (cpuRows.length) {
    printTable(['CPU ms per request', 'workerd', 'wrangler', 'stand-in', 'postgres', 'load gen', 'all'], cpuRows);
    console.log('');
  }
}

export const endpointsSuite: Suite = {
  summary: 'every endpoint of bench/lib/endpoints.ts on both transports: req/s, p50/p99, statements, round trips, CPU per request',
  byDefault: true,
  async run(stack, { phase }) {
    await stack.captureOff(stack.variants.filter((v) => v.endpoint.floor === 'db'));
    const { reports, overhead } = await loadRounds(stack, stack.variants, phase);
    // Each transport against its own db floor (select 1 over the same transport).
    const dbFloorOf = (t?: Transport) => reports.find((r) => r.floor === 'db' && r.transport === (t ?? 'http'))?.median?.p50;
    for (const r of reports) {
      const floor = dbFloorOf(r.transport);
      if (floor && r.median) r.p50OverDbFloor = r.median.p50 / floor;
    }
    return {
      results: {
        endpoints: reports,
        floors: { runtimeP50: reports.find((r) => r.floor === 'runtime')?.median?.p50 ?? null, dbP50: dbFloorOf('http') ?? null },
        // What the report prints: each ratio beside the same run's ratio of identical work.
        httpOverWebSocket: transportRatios(reports),
        loadOverheadMs: {
          'settle (part of load)': Math.round(overhead.settleMs),
          'prepare rounds (part of load)': Math.round(overhead.prepareMs),
          'autocannon start/stop (part of load)': Math.round(overhead.runOverheadMs),
        },
      },
      print: () => printEndpoints(reports, stack),
    };
  },
};
