import { z } from '@hono/zod-openapi';
import { unauthorized } from '../../lib/errors';
import { Email, Name, Password, User } from '../../lib/user';

export const RegisterBody = z.strictObject({ name: Name, email: Email, password: Password }).openapi('RegisterRequest');

export const LoginBody = z
  .strictObject({
    email: Email,
    // Sign-in checks any length against the stored hash (the rules apply when a password is set), within reason.
    password: z.string().min(1).max(1024),
  })
  .openapi('LoginRequest');

export const RefreshBody = z.strictObject({ refreshToken: z.string().min(1).max(512) }).openapi('RefreshRequest');

export const TokenPair = z
  .object({
    tokenType: z.literal('Bearer'),
    accessToken: z.string().openapi({ description: 'JWT (EdDSA or ES256), valid for expiresIn seconds' }),
    expiresIn: z.number().int().openapi({ example: 900 }),
    refreshToken: z.string().openapi({ description: 'Opaque; works once; rotate with POST /v1/auth/refresh' }),
    user: User,
  })
  .openapi('TokenPair');

/** A token from an email link: opaque; anything that is not a live token of the route's purpose is a 401. */
const LinkToken = z.string().min(1).max(512).openapi({ description: 'The `token` query parameter of the emailed link' });

export const unusableToken = () => unauthorized('The link is invalid, expired or already used; ask for a new one.');

export const TokenBody = z.strictObject({ token: LinkToken }).openapi('TokenRequest');

export const AcceptInvitationBody = z
  .strictObject({ token: LinkToken, password: Password, name: Name.optional() })
  .openapi('AcceptInvitationRequest');

export const ForgotPasswordBody = z.strictObject({ email: Email }).openapi('ForgotPasswordRequest');

export const ResetPasswordBody = z.strictObject({ token: LinkToken, newPassword: Password }).openapi('ResetPasswordRequest');

export const Accepted = z
  .object({ status: z.literal('accepted'), detail: z.string() })
  .openapi('Accepted', { description: 'The request was taken; any email it causes is on its way.' });
