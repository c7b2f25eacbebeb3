import { z } from '@hono/zod-openapi';

export const codePoints = (s: string) => [...s].length;

/** PostgreSQL text cannot hold U+0000: refuse it at validation (a 422 naming the field) instead of at the database. */
export const storable = [(s: string) => !s.includes('\u0000'), 'must not contain the NUL character (U+0000)'] as const;

/** Emails are trimmed and lower-cased before anything else looks at them (contract §1). */
export const Email = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .email()
  .openapi({ example: 'ada@example.com', description: 'Trimmed and compared case-insensitively; stored lower-case.' });

export const Name = z
  .string()
  .trim()
  .refine((s) => codePoints(s) >= 1, 'must not be empty')
  .refine((s) => codePoints(s) <= 100, 'must be at most 100 characters')
  .refine(...storable)
  .openapi({ example: 'Ada Lovelace', description: '1..100 characters after trimming.' });

/** Never trimmed or truncated; length counted in Unicode code points. */
export const Password = z
  .string()
  .refine((s) => codePoints(s) >= 12, 'must be at least 12 characters')
  .refine((s) => codePoints(s) <= 128, 'must be at most 128 characters')
  .openapi({ example: 'violet ladder under seven moons', description: '12..128 characters (Unicode code points).' });

export const User = z
  .object({
    id: z.number().int().openapi({ example: 1 }),
    name: z.string().openapi({ example: 'Ada' }),
    email: z.string().openapi({ example: 'ada@example.com' }),
    roles: z.array(z.string()).openapi({ example: ['admin'] }),
    disabled: z.boolean(),
    createdAt: z.string().openapi({ example: '2026-01-31T12:00:00.000Z' }),
    lastLoginAt: z.string().nullable().openapi({ example: null }),
  })
  .openapi('User');

export type UserJson = z.infer<typeof User>;
