/**
 * `wrangler dev` (4.x) attaches its InspectorProxyWorker to the Worker's runtime and sends `Network.enable`, for the
 * DevTools network tab. From then on every outbound `fetch` of the Worker raises four DevTools events
 * (requestWillBeSent, responseReceived, dataReceived, loadingFinished — the last with the whole answer, base64),
 * each relayed as an HTTP POST into wrangler's Node process, which writes it to its debug log; with no DevTools
 * attached they are also kept in a buffer that only grows. A new WebSocket raises one such event. Measured here
 * (bench/README.md): ~4 ms of CPU per statement over HTTP, which capped `select 1` over HTTP at ~200 req/s.
 * Production has no inspector, so the benchmark turns the capture off: it connects as DevTools would, sends
 * `Network.disable` and leaves (console and exception events still flow as before).
 */
import { WebSocket } from 'ws';

export function disableNetworkCapture(inspectorPort: number, timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    // The inspector proxy accepts DevTools from its own host names only (it checks Origin and Host).
    const ws = new WebSocket(`ws://127.0.0.1:${inspectorPort}/ws`, { headers: { Origin: 'http://127.0.0.1' } });
    const timer = setTimeout(() => fail(new Error(`no answer to Network.disable on inspector port ${inspectorPort}`)), timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      ws.terminate();
      reject(error);
    };
    ws.on('open', () => ws.send(JSON.stringify({ id: 1, method: 'Network.disable' })));
    ws.on('message', (data) => {
      // Everything buffered since start-up is replayed first; only the answer to our command matters.
      const message = JSON.parse(String(data)) as { id?: number; error?: { message: string } };
      if (message.id !== 1) return;
      if (message.error) return fail(new Error(`Network.disable: ${message.error.message}`));
      clearTimeout(timer);
      ws.close();
      resolve();
    });
    ws.on('unexpected-response', (_req, res) => fail(new Error(`inspector port ${inspectorPort} answered ${res.statusCode}`)));
    ws.on('error', fail);
  });
}
