/**
 * @simplewebauthn/server inside workerd (the Worker's runtime under this wrangler and compatibility date), on real
 * ceremonies from the software authenticator: both verifications pass, and fail when the signature is broken.
 */
import { expect, it } from 'vitest';
import { authenticationOptions, newChallenge, verifyAuthentication, verifyRegistration } from '../src/auth/passkeys';
import { generateRegistrationOptions } from '@simplewebauthn/server';
import { b64url, fromB64url, SoftAuthenticator } from './passkey-authenticator';

const rp = { id: 'console.example.com', origin: 'https://console.example.com' };

it('registers and signs in with an ES256 credential, and refuses a tampered signature', async () => {
  const authenticator = new SoftAuthenticator();
  const reg = await newChallenge();
  const options = await generateRegistrationOptions({ rpName: 'T', rpID: rp.id, userName: 'a@example.com', challenge: fromB64url(reg.challenge), userID: new Uint8Array([1]) });
  const attestation = await authenticator.create(options, { origin: rp.origin });
  const credential = await verifyRegistration(rp, reg.challenge, attestation as never);
  expect(credential).not.toBeNull();
  expect(credential!.id).toBe([...authenticator.credentials[0]!.id].map((b) => b.toString(16).padStart(2, '0')).join(''));

  const auth = await newChallenge();
  const request = await authenticationOptions(rp, auth.challenge);
  expect(request.allowCredentials).toBeUndefined();
  const assertion = await authenticator.get(request, { origin: rp.origin });
  const stored = { credential_id: credential!.id, public_key: credential!.publicKey, counter: 0 };
  expect(await verifyAuthentication(rp, auth.challenge, assertion as never, stored)).toEqual({ counter: 1 });

  const signature = fromB64url(assertion.response.signature);
  signature[signature.length - 1]! ^= 1;
  const tampered = { ...assertion, response: { ...assertion.response, signature: b64url(signature) } };
  expect(await verifyAuthentication(rp, auth.challenge, tampered as never, stored)).toBeNull();
});
