import { z } from '@hono/zod-openapi';
import { Name } from '../../lib/user';

const base64url = (max: number) => z.string().min(1).max(max).regex(/^[A-Za-z0-9_-]+$/, 'must be base64url');

const credentialFields = {
  id: base64url(1400).openapi({ description: 'The credential id, base64url.' }),
  rawId: base64url(1400),
  type: z.literal('public-key'),
  clientExtensionResults: z.looseObject({}).default({}),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
};

/** A registration answer, as `PublicKeyCredential.toJSON()` gives it after `navigator.credentials.create()`. */
export const RegistrationCredential = z
  .looseObject({
    ...credentialFields,
    response: z.looseObject({
      clientDataJSON: base64url(8000),
      attestationObject: base64url(24000),
      transports: z.array(z.string().max(32)).max(16).optional(),
    }),
  })
  .openapi('RegistrationCredential', { description: 'PublicKeyCredential.toJSON() of navigator.credentials.create(); binary fields base64url.' });

/** A sign-in answer, as `PublicKeyCredential.toJSON()` gives it after `navigator.credentials.get()`. */
export const AuthenticationCredential = z
  .looseObject({
    ...credentialFields,
    response: z.looseObject({
      clientDataJSON: base64url(8000),
      authenticatorData: base64url(8000),
      signature: base64url(2000),
      userHandle: base64url(200).nullish(),
    }),
  })
  .openapi('AuthenticationCredential', { description: 'PublicKeyCredential.toJSON() of navigator.credentials.get(); binary fields base64url.' });

export const AddPasskeyBody = z
  .strictObject({
    name: Name.openapi({ example: 'Work laptop', description: '1..100 characters after trimming.' }),
    response: RegistrationCredential,
  })
  .openapi('AddPasskeyRequest');

export const PasskeySignInBody = z.strictObject({ response: AuthenticationCredential }).openapi('PasskeySignInRequest');

export const Passkey = z
  .object({
    id: z.number().int().openapi({ example: 3 }),
    name: z.string().openapi({ example: 'Work laptop' }),
    createdAt: z.string().openapi({ example: '2026-12-07T12:00:00.000Z' }),
    lastUsedAt: z.string().nullable().openapi({ example: null }),
  })
  .openapi('Passkey');
export type PasskeyJson = z.infer<typeof Passkey>;

export const PasskeyList = z.object({ data: z.array(Passkey) }).openapi('PasskeyList');

export const PasskeyIdParam = z.object({
  id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: '3', description: 'The passkey’s id. Another account’s, or anything that is no id: 404.' }),
});

const descriptor = z.object({ id: z.string(), type: z.literal('public-key'), transports: z.array(z.string()).optional() });

/** WebAuthn's PublicKeyCredentialCreationOptionsJSON: the bare object for `PublicKeyCredential.parseCreationOptionsFromJSON()`. */
export const CreationOptions = z
  .looseObject({
    challenge: z.string(),
    rp: z.object({ id: z.string().optional(), name: z.string() }),
    user: z.object({ id: z.string(), name: z.string(), displayName: z.string() }),
    pubKeyCredParams: z.array(z.object({ type: z.literal('public-key'), alg: z.number() })),
    timeout: z.number().optional(),
    excludeCredentials: z.array(descriptor).optional(),
    authenticatorSelection: z.looseObject({}).optional(),
    attestation: z.string().optional(),
  })
  .openapi('PublicKeyCredentialCreationOptions');

/** WebAuthn's PublicKeyCredentialRequestOptionsJSON: the bare object for `PublicKeyCredential.parseRequestOptionsFromJSON()`. */
export const RequestOptions = z
  .looseObject({
    challenge: z.string(),
    rpId: z.string().optional(),
    timeout: z.number().optional(),
    userVerification: z.string().optional(),
  })
  .openapi('PublicKeyCredentialRequestOptions');
