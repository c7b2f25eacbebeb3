/**
 * One timed run of autocannon against one endpoint: fixed connections, fixed duration, no pipelining.
 * Latencies are recorded here from every response (float milliseconds; autocannon's own histogram rounds to 1 ms,
 * too coarse for sub-millisecond floors).
 */
import autocannon from 'autocannon';

export interface LoadRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Called for every request: its JSON body. */
  body?: () => unknown;
  /** Called for every request: headers added to `headers`. */
  perRequestHeaders?: () => Record<string, string>;
  onResponse?: (status: number, body: string) => void;
}

export interface LoadResult {
  /** Completed responses per second (any status). */
  rps: number;
  /** Latency percentiles in ms over 2xx answers; over all answers when there was no 2xx at all. */
  p50: number;
  p99: number;
  responses: number;
  /** Answers that were not 2xx. */
  non2xx: number;
  /** Connection errors and timeouts. */
  socketErrors: number;
  /** non2xx + socketErrors. */
  errors: number;
  statuses: Record<string, number>;
  /** How many 2xx answers reported N statements in Server-Timing (`desc="N statements"`), by N; 'none' without one. */
  statements: Record<string, number>;
  durationS: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function median(values: number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return NaN;
  const mid = Math.floor(finite.length / 2);
  return finite.length % 2 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
}

export async function runLoad(
  baseUrl: string,
  request: LoadRequest,
  options: { connections: number; durationS: number; timeoutS?: number },
): Promise<LoadResult> {
  const ok: number[] = [];
  const all: number[] = [];
  const statuses: Record<string, number> = {};
  const statements: Record<string, number> = {};
  const { body, perRequestHeaders, onResponse } = request;
  const headers = { ...request.headers, ...(body ? { 'content-type': 'application/json' } : {}) };
  const instance = autocannon({
    url: baseUrl,
    connections: options.connections,
    pipelining: 1,
    duration: options.durationS,
    // autocannon checks for the end of the run once per sample interval (1 s by default): 1.5 s would run 2 s.
    sampleInt: 100,
    timeout: options.timeoutS ?? 30,
    requests: [
      {
        method: request.method,
        path: request.path,
        headers,
        ...(body || perRequestHeaders
          ? {
              setupRequest: (req) => ({
                ...req,
                ...(perRequestHeaders ? { headers: { ...req.headers, ...perRequestHeaders() } } : {}),
                ...(body ? { body: JSON.stringify(body()) } : {}),
              }),
            }
          : {}),
        onResponse: (status, text, _context, responseHeaders) => {
          if (status >= 200 && status < 300) {
            const timing = Object.entries(responseHeaders).find(([name]) => name.toLowerCase() === 'server-timing')?.[1];
            const n = /desc="(\d+) statements?"/.exec(String(timing ?? ''))?.[1] ?? 'none';
            statements[n] = (statements[n] ?? 0) + 1;
          }
          onResponse?.(status, text);
        },
      },
    ],
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    all.push(ms);
    if (status >= 200 && status < 300) ok.push(ms);
    statuses[status] = (statuses[status] ?? 0) + 1;
  });
  const result = await instance;
  const latencies = (ok.length > 0 ? ok : all).sort((a, b) => a - b);
  const non2xx = all.length - ok.length;
  const socketErrors = result.errors;
  if (socketErrors > 0) statuses.socketErrors = socketErrors;
  return {
    rps: result.duration > 0 ? all.length / result.duration : 0,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    responses: all.length,
    non2xx,
    socketErrors,
    errors: non2xx + socketErrors,
    statuses,
    statements,
    durationS: result.duration,
  };
}
