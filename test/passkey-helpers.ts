/** Helpers for the passkey tests: a registered passkey through the API, and a sign-in with it. */
import type { CallResult, Harness } from './harness';
import { SoftAuthenticator, type CeremonyOptions } from './passkey-authenticator';

/** The origin the Worker sees in tests (test/harness.ts calls http://api.test unless told otherwise). */
export const ORIGIN = 'http://api.test';

/** Options, the authenticator's answer, then POST /v1/me/passkeys; `ceremony` forges the answer. */
export async function addPasskey(
  h: Harness,
  token: string,
  authenticator = new SoftAuthenticator(),
  { name = 'Laptop', ceremony = {} }: { name?: string; ceremony?: Partial<CeremonyOptions> } = {},
): Promise<{ res: CallResult; authenticator: SoftAuthenticator; response: unknown; options: any }> {
  const options = await h.call('POST', '/v1/me/passkeys/options', { token });
  if (options.status !== 200) throw new Error(`passkey options: ${options.status} ${options.text}`);
  const response = await authenticator.create(options.body, { origin: ORIGIN, ...ceremony });
  const res = await h.call('POST', '/v1/me/passkeys', { token, body: { name, response } });
  return { res, authenticator, response, options: options.body };
}

/** Options, an assertion of the authenticator's (first) credential, then POST /v1/auth/passkey. */
export async function passkeySignIn(h: Harness, authenticator: SoftAuthenticator, ceremony: Partial<CeremonyOptions> = {}) {
  const options = await h.call('POST', '/v1/auth/passkey/options');
  if (options.status !== 200) throw new Error(`passkey sign-in options: ${options.status} ${options.text}`);
  const response = await authenticator.get(options.body, { origin: ORIGIN, ...ceremony }, authenticator.credentials[0]);
  const res = await h.call('POST', '/v1/auth/passkey', { body: { response } });
  return { res, response, options: options.body };
}
