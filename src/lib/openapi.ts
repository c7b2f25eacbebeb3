import { z } from '@hono/zod-openapi';

export const Problem = z
  .object({
    type: z.string().openapi({ example: 'https://dashboard-analytics.dev/problems/validation-error' }),
    title: z.string().openapi({ example: 'Unprocessable Content' }),
    status: z.number().int().openapi({ example: 422 }),
    detail: z.string().openapi({ example: 'The request failed validation.' }),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .openapi({ example: [{ path: 'email', message: 'Invalid email address' }] }),
  })
  .openapi('Problem');

const descriptions: Record<number, string> = {
  400: 'Malformed JSON, query string or cursor',
  401: 'Missing, invalid or expired access token, or bad credentials',
  403: 'Authenticated but lacking the role',
  404: 'No such resource',
  409: 'Conflict with the current state',
  413: 'Body over 64 KiB',
  415: 'Body is not application/json',
  422: 'Well-formed input that fails validation',
  429: 'Rate limited; see Retry-After',
  503: 'Database unreachable',
};

/** The problem+json responses a route can answer with, for the OpenAPI document. */
export function problems(...statuses: (keyof typeof descriptions)[]) {
  return Object.fromEntries(
    [...statuses, 503].map((status) => [
      status,
      { description: descriptions[status]!, content: { 'application/problem+json': { schema: Problem } } },
    ]),
  ) as Record<number, { description: string; content: { 'application/problem+json': { schema: typeof Problem } } }>;
}

export const jsonBody = <T extends z.ZodType>(schema: T, description?: string) => ({
  required: true,
  description,
  content: { 'application/json': { schema } },
});

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const bearer = [{ bearerAuth: [] }];
