import { z } from '@hono/zod-openapi';
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
