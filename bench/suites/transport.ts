/**
 * The transport suite: p50 of a few endpoints per simulated Worker↔database RTT on both transports (the stand-in's
 * latency model, set live), the stand-in's own cost (`select 1` through it against a direct pg.Pool), and what
 * wrangler dev's DevTools network capture costs (measured once, then off for every figure).
 */
import { measureStandInOverhead } from '../lib/stand-in-overhead';
import type { DevtoolsCapture } from '../lib/stack';
import { fmt, printTable } from '../lib/table';
import type { Transport } from '../lib/variants';
import { log } from '../lib/workers';
import type { Suite } from '../lib/suite';

/** Endpoints of the latency table (p50 per simulated RTT and transport). */
const LATENCY_ENDPOINTS = ['select 1 (db floor)', 'GET /health', 'GET /v1/me', 'GET /v1/users', 'GET /v1/users/:id'];

interface LatencyRow { rttMs: number; name: string; transport: Transport; p50: number; rps: number; roundTripsPerRequest: number | null; errors: number }

function printLatency(latency: LatencyRow[]) {
  if (!latency.length) return;
  const rtts = [...new Set(latency.map((l) => l.rttMs))];
  const names = [...new Set(latency.map((l) => l.name))];
  const cell = (name: string, t: Transport, rtt: number) => {
    const l = latency.find((x) => x.name === name && x.transport === t && x.rttMs === rtt);
    return l ? `${fmt(l.p50, 1)} (${fmt(l.roundTripsPerRequest, 1)})` : '–';
  };
  console.log('Simulated Worker↔database RTT (DEV_DB_RTT_MS model of the stand-in):');
  printTable(['p50 ms (db round trips/request)', ...rtts.flatMap((rtt) => [`http @${rtt}`, `ws @${rtt}`])],
    names.map((n) => [n, ...rtts.flatMap((rtt) => [cell(n, 'http', rtt), cell(n, 'websocket', rtt)])]));
  console.log('');
}

function printStandIn(standIn: Awaited<ReturnType<typeof measureStandInOverhead>> | undefined) {
  for (const o of standIn ?? []) {
    const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(0)} %`;
    const way = (w: { p50: number; perSecond: number }) => `p50 ${fmt(w.p50, 3)} ms (${w.perSecond}/s)`;
    console.log(`Stand-in overhead, select 1 from Node, ${o.connections} concurrent: direct pg.Pool ${way(o.direct)}; ` +
      `through the stand-in (node:http keep-alive) ${way(o.standIn)}, ${pct(o.p50Overhead)}; hop floor (canned /sql, no PostgreSQL) ` +
      `${way(o.hop)}, ${pct(o.hopP50Overhead)}; the stand-in's own cost above the hop ${pct(o.ownOverhead)}; via neon() (Node fetch) ${way(o.viaDriver)}`);
  }
}

function printCapture(capture: DevtoolsCapture[]) {
  if (!capture.length) return;
  console.log(`wrangler dev's DevTools network capture (on by default; off for every figure above): ` +
    capture.map((c) => `${c.name} [${c.transport === 'http' ? 'http' : 'ws'}] ${fmt(c.on.rps, 0)} → ${fmt(c.off.rps, 0)} req/s, ` +
      `p50 ${fmt(c.on.p50, 1)} → ${fmt(c.off.p50, 1)} ms`).join('; '));
}

export const transport: Suite = {
  summary: 'p50 per simulated database RTT on both transports (--rtts), the stand-in\'s own cost, the DevTools capture\'s cost',
  byDefault: true,
  async run(stack, { phase }) {
    const { config } = stack;
    const devtoolsCapture = await stack.captureOff(stack.variants.filter((v) => v.endpoint.floor === 'db'));
    for (const c of devtoolsCapture) {
      log(`devtools network capture, ${c.name} [${c.transport}]: on ${c.on.rps.toFixed(0)} req/s p50 ${c.on.p50.toFixed(1)} ms → ` +
        `off ${c.off.rps.toFixed(0)} req/s p50 ${c.off.p50.toFixed(1)} ms`);
    }
    const latency: LatencyRow[] = [];
    if (stack.local && config.rtts.length) {
      await phase('latency table', async () => {
        await stack.prepareRound(false);
        const chosen = stack.variants.filter((v) => v.transport && LATENCY_ENDPOINTS.includes(v.endpoint.name));
        for (const rtt of config.rtts) {
          await stack.setProxyRtt(rtt);
          for (const v of chosen) {
            const before = await stack.proxyStats();
            const result = await stack.run(v, Math.max(config.durationS, rtt ? 2 : 0));
            const after = await stack.proxyStats();
            const perRequest = before && after && result.responses ? (after.roundTrips - before.roundTrips) / result.responses : null;
            latency.push({ rttMs: rtt, name: v.endpoint.name, transport: v.transport!, p50: result.p50, rps: result.rps, roundTripsPerRequest: perRequest, errors: result.errors });
            log(`[rtt ${String(rtt).padStart(3)} ms] ${`${v.endpoint.name} [${v.transport}]`.padEnd(40)} p50 ${result.p50.toFixed(1).padStart(7)} ms  ` +
              `${perRequest === null ? '–' : perRequest.toFixed(2)} round trips/request  errors ${result.errors}`);
            await stack.settle(v.worker);
          }
        }
        await stack.setProxyRtt(config.baseRttMs);
      });
    }
    // The stand-in's own cost: `select 1` through it (neon() over HTTP) against a direct pooled pg connection.
    const standIn = stack.local
      ? await phase('stand-in overhead', () => measureStandInOverhead(stack.dbUrl, stack.vars.DB_PROXY!, [...new Set([1, config.connections])]))
      : undefined;
    return {
      results: { latency, standIn, devtoolsCapture },
      print: () => {
        printLatency(latency);
        printStandIn(standIn);
        printCapture(devtoolsCapture);
      },
    };
  },
};
