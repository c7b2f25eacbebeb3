import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, createUser, uniqueEmail, userWithToken, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.drop());

/** The password derivations the request ran (Server-Timing `password`, src/auth/hash-work.ts). */
const derivations = (headers: Headers) => [...(headers.get('server-timing') ?? '').matchAll(/password;desc="([^"]*)"/g)].map((m) => m[1]!);
const login = (email: string, password: string, harness = h) => harness.call('POST', '/v1/auth/login', { body: { email, password } });

// "Unknown email and wrong password give the same 401 in about the same time": the time is the password check, so
// every kind of account has to run the same one. Counted, not timed (a timing at test cost shows nothing).
describe('sign-in spends the same work whoever the email belongs to', () => {
  it('unknown, invited, disabled and real accounts each verify one password with the configured parameters', async () => {
    const params = h.env.PASSWORD_HASH_PARAMS!;
    const admin = await userWithToken(h, ['admin']);
    const invited = uniqueEmail('invited');
    const made = await h.call('POST', '/v1/users', { token: admin.token, body: { name: 'Invited', email: invited } });
    expect(made.status).toBe(201);
    expect(made.body.invited).toBe(true);
    const real = await createUser(h);
    const disabled = await createUser(h, { disabled: true });
    // The first unknown email of an isolate also makes the dummy hash once (cached after): not part of the answer.
    await login(uniqueEmail('warm-up'), 'wrong password!!');

    const cases = [
      ['unknown', await login(uniqueEmail('ghost'), 'wrong password!!'), 401],
      ['invited', await login(invited, 'wrong password!!'), 401],
      ['disabled, wrong password', await login(disabled.email, 'wrong password!!'), 401],
      ['real, wrong password', await login(real.email, 'wrong password!!'), 401],
      ['real, right password', await login(real.email, real.password), 200],
    ] as const;
    for (const [label, res, status] of cases) {
      expect(res.status, label).toBe(status);
      expect(derivations(res.headers), label).toEqual([`verify ${params}`]);
    }
  });

  it('at the production parameters too (the dummy hash follows PASSWORD_HASH_PARAMS)', async () => {
    const production = h.with({ PASSWORD_HASH_PARAMS: 'argon2id:m=19456,t=2,p=1' });
    const real = await createUser(production);
    await login(uniqueEmail('warm-up'), 'wrong password!!', production);
    const unknown = await login(uniqueEmail('ghost'), 'wrong password!!', production);
    const wrong = await login(real.email, 'wrong password!!', production);
    expect(unknown.status).toBe(401);
    expect(derivations(unknown.headers)).toEqual(['verify argon2id:m=19456,t=2,p=1']);
    expect(derivations(wrong.headers)).toEqual(derivations(unknown.headers));
  });
});
