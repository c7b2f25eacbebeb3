import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { docsPolicy } from '../lib/csp';
import type { AppEnv } from '../env';

// The page only names its two scripts; both are static files beside it (/docs/scalar.js is the API reference's
// standalone bundle, /docs/init.js starts it), so it needs no network beyond this origin and no inline script.
const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Dashboard Analytics API</title>
    <link rel="icon" href="data:," />
  </head>
  <body>
    <div id="app"></div>
    <noscript>This reference needs JavaScript; the OpenAPI document itself is <a href="/openapi.json">/openapi.json</a>.</noscript>
    <script src="/docs/scalar.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;

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
      (c) => {
        c.header('Content-Security-Policy', docsPolicy);
        c.header('Cache-Control', 'public, max-age=300');
        return c.html(PAGE, 200);
      },
    );
}
