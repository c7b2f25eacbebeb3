/**
 * CPU per request of a running stack, by process, from /proc (bench/lib/cpu.ts): `tsx bench/worker-cpu.ts <pid> <url>
 * [requests] [token]`, with <pid> the `npm run dev` (or `wrangler dev`) process whose tree serves <url>. Sends
 * 200 warm-up requests, then the given number (default 3000) four at a time, and prints ms of CPU per response for
 * each program (workerd is the runtime and wrangler's ProxyWorker; node the proxy stand-in and wrangler).
 */
import { cpuPerRequest, cpuSnapshot } from './lib/cpu';

const [pid, url, count = '3000', token] = process.argv.slice(2);
if (!pid || !url) throw new Error('usage: tsx bench/worker-cpu.ts <pid> <url> [requests] [token]');
const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};

async function send(n: number) {
  let left = n;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (left-- > 0) {
        const res = await fetch(url!, { headers });
        await res.arrayBuffer();
        if (res.status >= 400) throw new Error(`${url} answered ${res.status}`);
      }
    }),
  );
}

await send(200);
const before = cpuSnapshot({ stack: Number(pid) });
const started = performance.now();
await send(Number(count));
const seconds = (performance.now() - started) / 1000;
console.log(url, `${(Number(count) / seconds).toFixed(0)} req/s`, cpuPerRequest(before, cpuSnapshot({ stack: Number(pid) }), Number(count)));
