/**
 * A local stand-in for Have I Been Pwned's Pwned Passwords range API (https://haveibeenpwned.com/API/v3#PwnedPasswords),
 * so tests and the soak check breached passwords without the internet. Same protocol:
 * `GET /range/<5 hex digits>` → 200 `text/plain`, one `<35 upper-case hex digits of the SHA-1 suffix>:<count>` per
 * line, CRLF-separated; with `Add-Padding: true`, padding lines with count 0 bring the answer to 800–1,000 lines.
 * A malformed prefix is a 400, any other path a 404. Listens on loopback only.
 * Faults for tests in another process (the Worker): `<url>/slow/range/…` answers after `delayMs`, `<url>/down/range/…`
 * answers 503 (see `slowUrl`, `downUrl`).
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HibpStub {
  /** Base URL for the Worker's HIBP_URL (ends with `/range/`). */
  url: string;
  /** The same API answering only after `delayMs`. */
  slowUrl: string;
  /** The same API answering 503. */
  downUrl: string;
  /** Prefixes asked for, in order (what left the Worker). */
  requests: { prefix: string; padding: boolean }[];
  delayMs: number;
  close(): Promise<void>;
}

const sha1 = (text: string) => createHash('sha1').update(text.normalize('NFC'), 'utf8').digest('hex').toUpperCase();

/** Passwords every stub knows as breached (besides the ones passed in): used by the test suites. */
export const KNOWN_BREACHED = ['breached password example', 'password123456', 'correct horse battery staple'];

export async function startHibpStub(options: { breached?: string[]; port?: number } = {}): Promise<HibpStub> {
  const counts = new Map<string, number>();
  for (const [i, password] of [...KNOWN_BREACHED, ...(options.breached ?? [])].entries()) counts.set(sha1(password), 1000 + i);

  const server = http.createServer((req, res) => {
    const m = /^\/(?:(slow|down)\/)?range\/([^/?]*)$/.exec(req.url ?? '');
    if (req.method !== 'GET' || !m) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
      return;
    }
    const mode = m[1];
    const prefix = m[2]!;
    if (!/^[0-9A-Fa-f]{5}$/.test(prefix)) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('The hash prefix was not in a valid format');
      return;
    }
    const padding = String(req.headers['add-padding']).toLowerCase() === 'true';
    stub.requests.push({ prefix: prefix.toUpperCase(), padding });
    const answer = () => {
      if (mode === 'down') {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('Service Unavailable');
        return;
      }
      const lines: string[] = [];
      for (const [hash, count] of counts) if (hash.startsWith(prefix.toUpperCase())) lines.push(`${hash.slice(5)}:${count}`);
      if (padding) {
        const target = 800 + (randomBytes(1)[0]! % 201);
        while (lines.length < target) lines.push(`${randomBytes(18).toString('hex').toUpperCase().slice(0, 35)}:0`);
      }
      lines.sort();
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'public, max-age=2678400' }).end(lines.join('\r\n'));
    };
    if (mode === 'slow') setTimeout(answer, stub.delayMs);
    else answer();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const stub: HibpStub = {
    url: `http://127.0.0.1:${port}/range/`,
    slowUrl: `http://127.0.0.1:${port}/slow/range/`,
    downUrl: `http://127.0.0.1:${port}/down/range/`,
    requests: [],
    delayMs: 5000,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return stub;
}
