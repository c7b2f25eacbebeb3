/**
 * Runs in Node (not workerd): the OpenAPI document is checked against the official OpenAPI 3.1 JSON schema, whose
 * validator compiles schemas with `new Function`, which workerd forbids. The document comes from the real app.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateCursorSecret, generateSigningKey } from '../../scripts/dev/keys';
import { app } from '../../src/app';

let document: any;

beforeAll(async () => {
  const env = { DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused', JWT_PRIVATE_KEY: await generateSigningKey(), CURSOR_SECRET: generateCursorSecret() };
  const ctx = { waitUntil: () => {}, passThroughOnException: () => {}, props: {} };
  const res = await app.request('/openapi.json', {}, env, ctx as unknown as ExecutionContext);
  expect(res.status).toBe(200);
  document = await res.json();
});

describe('/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).toBe('3.1.0');
    const result = await new Validator().validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('documents every route the app serves, and nothing else', () => {
    const served = new Set(
      app.routes
        .filter((r) => r.method !== 'ALL')
        // The console's page and its redirect are not API routes (contract §12).
        .filter((r) => r.path !== '/' && !r.path.startsWith('/console'))
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:([^/]+)/g, '{$1}')}`),
    );
    const documented = new Set(
      Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
        Object.keys(ops).map((method) => `${method} ${path}`),
      ),
    );
    expect([...served].sort()).toEqual([...documented].sort());
    // The contract's fixed points, so an empty router cannot pass the comparison above.
    for (const route of ['get /health', 'get /.well-known/jwks.json', 'post /v1/auth/login', 'get /v1/me', 'get /openapi.json', 'get /docs']) {
      expect(documented).toContain(route);
    }
  });

  it('declares bearer auth, and every guarded operation uses it', () => {
    expect(document.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    const open = new Set(['/health', '/.well-known/jwks.json', '/openapi.json', '/docs', '/v1/auth/register', '/v1/auth/login', '/v1/auth/refresh', '/v1/auth/logout', '/v1/auth/mfa', '/v1/dev/mailbox', '/v1/auth/invitation/accept', '/v1/auth/password/forgot', '/v1/auth/password/reset', '/v1/auth/email/verify', '/v1/auth/email/confirm', '/v1/auth/passkey/options', '/v1/auth/passkey']);
    // §13: the ingest route takes a source's write key, its own scheme.
    expect(document.paths['/v1/ingest'].post.security).toEqual([{ writeKey: [] }]);
    expect(document.components.securitySchemes.writeKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    open.add('/v1/ingest');
    for (const [path, ops] of Object.entries(document.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(ops)) {
        if (open.has(path) || path.startsWith('/v1/auth/oidc/')) continue;
        expect(op.security, `${method} ${path}`).toEqual([{ bearerAuth: [] }]);
        expect(op.responses['401'], `${method} ${path} documents 401`).toBeDefined();
      }
    }
  });

  it('documents problem+json errors with examples', () => {
    const login = document.paths['/v1/auth/login'].post;
    expect(login.responses['422'].content['application/problem+json']).toBeDefined();
    expect(login.responses['429']).toBeDefined();
    expect(document.components.schemas.Problem.properties.type.example).toEqual(expect.any(String));
  });
});
