/** The local stand-in for Have I Been Pwned's range API speaks its protocol, and the Worker's client sends only a prefix. */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timesBreached } from '../../src/auth/breached';
import type { Config } from '../../src/env';
import { KNOWN_BREACHED, startHibpStub, type HibpStub } from '../../scripts/stand-ins/hibp';

let stub: HibpStub;
beforeAll(async () => {
  stub = await startHibpStub({ breached: ['hunter2 but longer'] });
});
afterAll(() => stub.close());

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex').toUpperCase();
const config = (over: Partial<Config> = {}) => ({ HIBP_ENABLED: true, HIBP_URL: stub.url, HIBP_TIMEOUT_MS: 2000, ...over }) as Config;

describe('the stand-in speaks the range protocol', () => {
  it('answers suffix:count lines for a prefix, upper-case hex, CRLF-separated', async () => {
    const hash = sha1(KNOWN_BREACHED[0]!);
    const res = await fetch(`${stub.url}${hash.slice(0, 5)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain');
    const lines = (await res.text()).split('\r\n');
    expect(lines.every((l) => /^[0-9A-F]{35}:\d+$/.test(l))).toBe(true);
    expect(lines.find((l) => l.startsWith(hash.slice(5)))).toMatch(/:\d{4}$/);
  });

  it('pads to 800–1,000 lines with count 0 when asked (Add-Padding: true)', async () => {
    const plain = (await (await fetch(`${stub.url}00000`)).text()).split('\r\n').filter(Boolean);
    expect(plain.length).toBeLessThan(10);
    const padded = (await (await fetch(`${stub.url}00000`, { headers: { 'Add-Padding': 'true' } })).text()).split('\r\n');
    expect(padded.length).toBeGreaterThanOrEqual(800);
    expect(padded.length).toBeLessThanOrEqual(1000);
    expect(padded.filter((l) => l.endsWith(':0')).length).toBeGreaterThanOrEqual(800 - plain.length);
  });

  it('accepts lower-case prefixes; refuses malformed ones (400) and other paths (404)', async () => {
    expect((await fetch(`${stub.url}abcde`)).status).toBe(200);
    for (const bad of ['abcd', 'abcdef', 'ghijk', '']) expect((await fetch(`${stub.url}${bad}`)).status, bad).toBe(400);
    expect((await fetch(stub.url.replace('/range/', '/nope'))).status).toBe(404);
    expect((await fetch(`${stub.downUrl}abcde`)).status).toBe(503);
  });
});

describe('the client (src/auth/breached.ts)', () => {
  it('finds a breached password, not a fresh one, and sends only the 5-character prefix with padding', async () => {
    stub.requests.length = 0;
    expect(await timesBreached(config(), 'hunter2 but longer')).toBeGreaterThan(0);
    expect(await timesBreached(config(), 'nobody ever used this one')).toBe(0);
    expect(stub.requests).toEqual([
      { prefix: sha1('hunter2 but longer').slice(0, 5), padding: true },
      { prefix: sha1('nobody ever used this one').slice(0, 5), padding: true },
    ]);
  });

  it('gives up after the timeout and counts the password as not breached', async () => {
    stub.delayMs = 3000;
    const started = Date.now();
    expect(await timesBreached(config({ HIBP_URL: stub.slowUrl, HIBP_TIMEOUT_MS: 200 }), 'hunter2 but longer')).toBe(0);
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
