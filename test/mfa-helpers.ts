/** Helpers for the second-factor tests: an enrolled account, codes of a given step, the two sign-in steps. */
import { Secret } from 'otpauth/bare';
import { codeAt, stepAt } from '../src/auth/mfa';
import { createUser, signIn, type Harness, type TestUser } from './harness';

export interface Enrolled extends TestUser {
  secret: Uint8Array;
  token: string;
  refreshToken: string;
  recoveryCodes: string[];
}

/** The code of the step `offset` steps from now. */
export const totp = (secret: Uint8Array, offset = 0) => codeAt(secret, stepAt(Date.now()) + offset);

/** Claims of an access token (no verification: the API verified it). */
export const claims = (token: string) => JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the clock is at least 2 s into a 30-second step and 8 s before its end, so a test that names steps
 * relative to "now" cannot straddle a step boundary on its way to the server.
 */
export async function midStep() {
  const into = (Date.now() % 30_000) / 1000;
  if (into < 2) await sleep((2 - into) * 1000);
  else if (into > 22) await sleep((32 - into) * 1000);
}

/** Lets the current step be used again (tests that are not about replay use several codes within one step). */
export const forgetSteps = (h: Harness, userId: number) => h.query('update mfa_factors set last_step = null where user_id = $1', [userId]);

/** A signed-in account with TOTP enabled through the API (enrol, confirm). */
export async function enrolled(h: Harness, roles: string[] = ['viewer']): Promise<Enrolled> {
  const user = await createUser(h, { roles });
  const pair = await signIn(h, user);
  const start = await h.call('POST', '/v1/me/mfa/totp', { token: pair.accessToken, body: { currentPassword: user.password } });
  if (start.status !== 200) throw new Error(`enrol: ${start.status} ${start.text}`);
  const secret = Secret.fromBase32(start.body.secret).bytes;
  const confirm = await h.call('POST', '/v1/me/mfa/totp/confirm', { token: pair.accessToken, body: { code: totp(secret) } });
  if (confirm.status !== 200) throw new Error(`confirm: ${confirm.status} ${confirm.text}`);
  await forgetSteps(h, user.id);
  return { ...user, secret, token: pair.accessToken, refreshToken: pair.refreshToken, recoveryCodes: confirm.body.recoveryCodes };
}

/** The password step: the mfaToken of its 202. */
export async function passwordStep(h: Harness, user: { email: string; password: string }): Promise<string> {
  const res = await h.call('POST', '/v1/auth/login', { body: { email: user.email, password: user.password } });
  if (res.status !== 202) throw new Error(`password step: ${res.status} ${res.text}`);
  return res.body.mfaToken;
}

export const secondStep = (h: Harness, body: { mfaToken: string; code?: string; recoveryCode?: string }) => h.call('POST', '/v1/auth/mfa', { body });
