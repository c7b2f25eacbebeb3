import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BELOW_OWASP, weakHashParams } from '../src/auth/hash-params';
import { expectProblem } from './expect';
import { createHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.drop());
afterEach(() => vi.restoreAllMocks());

describe("PASSWORD_HASH_PARAMS below OWASP's minimum", () => {
  it.each(['argon2id:m=19456,t=2,p=1', 'argon2id:m=47104,t=1,p=1', 'argon2id:m=7168,t=5,p=1', 'argon2id:m=65536,t=3,p=4'])(
    'accepts Argon2id %s (OWASP or stronger)',
    (params) => expect(weakHashParams(params)).toBeNull(),
  );

  it.each(['argon2id:m=256,t=1,p=1', 'argon2id:m=19456,t=1,p=1', 'argon2id:m=12288,t=2,p=1', 'argon2id:m=7168,t=4,p=8'])(
    'refuses Argon2id %s',
    (params) => expect(weakHashParams(params)).toBe(BELOW_OWASP),
  );

  it.each(['N=131072,r=8,p=1', 'N=65536,r=8,p=2', 'N=32768,r=8,p=3', 'N=16384,r=8,p=5', 'N=8192,r=8,p=10', 'N=16384,r=16,p=3'])(
    'accepts %s (OWASP or stronger)',
    (params) => expect(weakHashParams(params)).toBeNull(),
  );

  it.each(['N=1024,r=8,p=1', 'N=16384,r=8,p=1', 'N=16384,r=16,p=1', 'N=8192,r=8,p=9', 'N=4096,r=8,p=64', 'N=65536,r=8,p=1'])(
    'refuses %s',
    (params) => expect(weakHashParams(params)).toBe(BELOW_OWASP),
  );

  it.each(['N=10000,r=8,p=5', 'N=0,r=8,p=5', 'N=16384,r=0,p=5', 'N=2097152,r=8,p=1'])('refuses the malformed %s', (params) =>
    expect(weakHashParams(params)).not.toBeNull(),
  );

  it('is a configuration error at start-up: every request 500, the log line names the variable', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const weak = h.with({ PASSWORD_HASH_PARAMS: 'N=16384,r=8,p=1', INSECURE_PASSWORD_HASH_FOR_TESTS: undefined });
    const res = await weak.call('POST', '/v1/auth/register', { body: { name: 'W', email: 'weak@example.com', password: 'long enough password' } });
    expectProblem(res, 500);
    expect(res.text).not.toContain('PASSWORD_HASH_PARAMS');
    const logged = errors.mock.calls.map((c) => String(c[0])).join('\n');
    expect(logged).toContain('PASSWORD_HASH_PARAMS');
    expect(logged).toContain('OWASP');
    expect(await h.query('select 1 from users where email = $1', ['weak@example.com'])).toHaveLength(0);
  });

  it('only the explicitly named test switch lets cheap parameters through, and never malformed ones', async () => {
    expect(h.env.INSECURE_PASSWORD_HASH_FOR_TESTS).toBe('true');
    expect((await h.call('GET', '/health')).status).toBe(200);
    vi.spyOn(console, 'error').mockImplementation(() => {});
    expectProblem(await h.with({ PASSWORD_HASH_PARAMS: 'N=1000,r=8,p=1' }).call('GET', '/health'), 500);
    expectProblem(await h.with({ INSECURE_PASSWORD_HASH_FOR_TESTS: 'false' }).call('GET', '/health'), 500);
  });

  it('the production default passes without the switch', async () => {
    const prod = h.with({ PASSWORD_HASH_PARAMS: undefined, INSECURE_PASSWORD_HASH_FOR_TESTS: undefined });
    expect((await prod.call('GET', '/health')).status).toBe(200);
  });
});

describe('TRUSTED_IP_HEADER', () => {
  it('a value that is not a header name is a configuration error', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    expectProblem(await h.with({ TRUSTED_IP_HEADER: 'x real ip' }).call('GET', '/health'), 500);
  });
});
