/**
 * What the stand-in charges for distance, and the faults it can inject.
 *
 * The latency model is production-shaped: each exchange costs what it would between a Worker and a Neon region
 * `rttMs` away. A new HTTPS connection costs 2 round trips (TCP, TLS 1.3) before its first request, each request 1.
 * A WebSocket costs 3 before any data (TCP, TLS, the upgrade), then every message waits rttMs / 2 in each direction,
 * so pipelined messages share one round trip. The same counter counts the round trips it charges, also at RTT 0:
 * the benchmark's "database round trips per request" are these counts.
 */

export interface ProxyStats {
  /** Round trips charged (the latency model's unit), whatever rttMs is. */
  roundTrips: number;
  httpRequests: number;
  httpConnections: number;
  wsConnections: number;
}

const sleep = (ms: number) => (ms > 0 ? new Promise<void>((r) => setTimeout(r, ms)) : Promise.resolve());

export class LatencyModel {
  private counts: ProxyStats = { roundTrips: 0, httpRequests: 0, httpConnections: 0, wsConnections: 0 };

  constructor(private rtt: number) {}

  setRtt(ms: number) {
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`rtt must be ≥ 0 ms, not ${ms}`);
    this.rtt = ms;
  }

  stats(): ProxyStats {
    return { ...this.counts };
  }

  /** Before a request's statement runs: half its round trip, plus TCP and TLS for a new connection. */
  requestStarts(newConnection: boolean) {
    this.counts.httpRequests++;
    this.counts.roundTrips++;
    if (newConnection) {
      this.counts.httpConnections++;
      this.counts.roundTrips += 2;
    }
    return sleep(this.rtt / 2 + (newConnection ? 2 * this.rtt : 0));
  }

  /** Before the answer leaves: the other half. */
  responseStarts() {
    return sleep(this.rtt / 2);
  }

  /** TCP, TLS and the upgrade of a new WebSocket. */
  upgradeStarts() {
    this.counts.wsConnections++;
    this.counts.roundTrips += 3;
    return sleep(3 * this.rtt);
  }

  /** A relayed message, in order: `turn` when it answers the other side (one round trip completes). */
  relay(send: () => void, turn: boolean) {
    if (turn) this.counts.roundTrips++;
    if (this.rtt <= 0) return send();
    setTimeout(send, this.rtt / 2);
  }
}

export interface FaultOptions {
  /** Share (0..1) of HTTP requests and of WebSocket connections dropped mid-statement. */
  dropShare: number;
  /**
   * `answer`: the statement completes, its answer is lost (the client sees a dropped connection);
   * `backend`: the PostgreSQL connection is cut while the statement runs (it is rolled back unless it had committed);
   * `either` (default): one of the two at random for each drop.
   */
  mode?: 'answer' | 'backend' | 'either';
  /** Deterministic runs: a seed for the choice of what to drop. */
  seed?: number;
}

/** mulberry32: a small seeded generator, so a soak with a seed drops the same exchanges every run. */
function generator(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Faults {
  private options?: FaultOptions;
  private random: () => number = Math.random;

  constructor(options?: FaultOptions) {
    this.set(options);
  }

  set(options: FaultOptions | undefined) {
    if (options && !(options.dropShare >= 0 && options.dropShare <= 1)) throw new Error('dropShare must be within 0..1');
    this.options = options;
    this.random = options?.seed !== undefined ? generator(options.seed) : Math.random;
  }

  /** Whether to drop this exchange, and how. */
  pick(): 'answer' | 'backend' | undefined {
    const o = this.options;
    if (!o || o.dropShare <= 0 || this.random() >= o.dropShare) return undefined;
    const mode = o.mode ?? 'either';
    return mode === 'either' ? (this.random() < 0.5 ? 'answer' : 'backend') : mode;
  }

  /** How long into a statement a drop happens (0–3 ms: mid-statement for this project's sub-millisecond plans). */
  delayMs() {
    return Math.floor(this.random() * 4);
  }
}
