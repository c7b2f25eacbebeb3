/**
 * The HTTP contract, §2 health and discovery, and §0/§2 when the database goes away (last: it stops the database).
 * The live stack and the checks every answer gets: ./fixtures.ts.
 */
import { createLocalJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  db, email, expectStatus, get, login, patch, post, put, register, ROOT, root, secondJwk, signingJwk, stack,
  useContractStack
} from './fixtures';

useContractStack();

describe('§2 health and discovery', () => {
  it('GET /health → 200 {status: ok, db: ok}', async () => {
    const res = await get('/health');
    expectStatus(res, 200);
    expect(res.body).toEqual({ status: 'ok', db: 'ok' });
  });

  it('GET /.well-known/jwks.json → the keys that verify access tokens, each with kid, alg, use: sig', async () => {
    const res = await get('/.well-known/jwks.json');
    expectStatus(res, 200);
    expect(Object.keys(res.body)).toEqual(['keys']);
    for (const k of res.body.keys) {
      expect(k).toMatchObject({ kid: expect.any(String), alg: expect.stringMatching(/^(ES256|EdDSA)$/), use: 'sig' });
      expect(k).not.toHaveProperty('d');
    }
    expect(res.body.keys.map((k: any) => k.kid).sort()).toEqual([signingJwk.kid, secondJwk.kid].sort());
    const verified = await jwtVerify(root.accessToken, createLocalJWKSet(res.body), {
      issuer: 'dashboard-analytics-api',
      audience: 'dashboard-analytics',
    });
    expect(verified.payload.sub).toBe(String(root.user.id));
  });

  it('GET /openapi.json → an OpenAPI 3.1 document of every route', async () => {
    const res = await get('/openapi.json');
    expectStatus(res, 200);
    expect(res.body.openapi).toMatch(/^3\.1\./);
    const routes = [
      'get /health', 'get /.well-known/jwks.json', 'get /openapi.json', 'get /docs',
      'post /v1/auth/register', 'post /v1/auth/login', 'post /v1/auth/refresh', 'post /v1/auth/logout', 'post /v1/auth/logout-all',
      'get /v1/me', 'patch /v1/me', 'post /v1/me/password', 'get /v1/me/sessions', 'delete /v1/me/sessions/{id}',
      'get /v1/users', 'post /v1/users', 'get /v1/users/{id}', 'patch /v1/users/{id}', 'delete /v1/users/{id}',
      'put /v1/users/{id}/roles', 'put /v1/users/{id}/roles/{role}', 'delete /v1/users/{id}/roles/{role}', 'delete /v1/users/{id}/sessions',
      'get /v1/roles', 'post /v1/roles', 'get /v1/roles/{role}', 'patch /v1/roles/{role}', 'delete /v1/roles/{role}', 'get /v1/roles/{role}/users',
      'get /v1/stats/overview', 'get /v1/audit',
    ];
    const documented = Object.entries(res.body.paths as Record<string, object>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    for (const r of routes) expect(documented).toContain(r);
  });

  it('GET /docs → an interactive reference page for that document', async () => {
    const res = await get('/docs');
    expectStatus(res, 200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.text).toContain('/openapi.json');
  });
});

describe('§0/§2 the database goes away', () => {
  it('GET /health → 503 {status: degraded, db: unreachable}; other routes 503 problem+json; then recovers', async () => {
    await stack.stopDatabase();
    try {
      const health = await get('/health');
      expect(health.status).toBe(503);
      expect(health.body).toEqual({ status: 'degraded', db: 'unreachable' });
      const me = await get('/v1/me', root.accessToken);
      expectStatus(me, 503);
      expect(me.headers.get('retry-after')).toMatch(/^\d+$/);
      expectStatus(await post('/v1/auth/login', { email: ROOT.email, password: ROOT.password }), 503);
    } finally {
      await stack.startDatabase();
    }
    expectStatus(await get('/health'), 200);
  }, 60_000);
});
