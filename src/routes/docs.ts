import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { Scalar } from '@scalar/hono-api-reference';
import type { AppEnv } from '../env';

/**
 * /openapi.json and /docs. The document is generated from the registry of `app` (the same zod schemas that
 * validate requests), once per isolate.
 */
export function docs(app: OpenAPIHono<AppEnv>) {
  let document: object | undefined;
  return new OpenAPIHono<AppEnv>()
    .openapi(
      createRoute({
        method: 'get',
        path: '/openapi.json',
        tags: ['Health'],
        summary: 'This OpenAPI 3.1 document',
        responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: z.looseObject({}) } } } },
      }),
      (c) => {
        document ??= app.getOpenAPI31Document({
          openapi: '3.1.0',
          info: {
            title: 'Dashboard Analytics API',
            version: '1.0.0',
            description:
              'Users, roles, sign-in, role-based access and the dashboard figures. Errors are application/problem+json ' +
              '(RFC 9457). Authenticate with `Authorization: Bearer <accessToken>` from POST /v1/auth/login.',
          },
          tags: [
            { name: 'Health' },
            { name: 'Auth' },
            { name: 'Me' },
            { name: 'Users' },
            { name: 'Roles' },
            { name: 'Analytics' },
          ],
        });
        c.header('Cache-Control', 'public, max-age=300');
        return c.json(document, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/docs',
        tags: ['Health'],
        summary: 'Interactive API reference for /openapi.json',
        responses: { 200: { description: 'An HTML page', content: { 'text/html': { schema: z.string() } } } },
      }),
      // Scalar's page loads its script from a CDN; the API itself serves only the HTML shell.
      Scalar({ url: '/openapi.json', pageTitle: 'Dashboard Analytics API' }) as never,
    );
}
