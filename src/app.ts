import { OpenAPIHono } from '@hono/zod-openapi';
import { cors } from 'hono/cors';
import { createMiddleware } from 'hono/factory';
import type { MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ConfigError, loadConfig, type AppEnv, type Config } from './env';
import { describeError, isDatabaseUnavailable, sqlState } from './lib/db-errors';
import { ApiError, badRequest, problem, serviceUnavailable } from './lib/errors';
import { allowedMethods } from './lib/method-not-allowed';
import { validationHook } from './lib/validation';
import { database } from './middleware/db';
import { requestLog } from './middleware/request-log';
import { auth, refuseApiKeys } from './middleware/auth';
import { myApiKeys } from './routes/api-keys/mine';
import { userApiKeys } from './routes/api-keys/user';
import { authRoutes } from './routes/auth';
import { deliverAfterResponse } from './email/outbox';
import { mailbox } from './routes/dev/mailbox';
import { oidcRoutes } from './routes/oidc';
import { consoleRoutes } from './routes/console';
import { dashboardsRoutes } from './routes/dashboards';
import { docs } from './routes/docs';
import { health } from './routes/health';
import { jwks } from './routes/jwks';
import { me } from './routes/me';
import { meMfa } from './routes/mfa';
import { mePasskeys } from './routes/passkeys/manage';
import { passkeySignIn } from './routes/passkeys/sign-in';
import { permissionsRoutes } from './routes/permissions';
import { auditRoutes } from './routes/audit';
import { rolesRoutes } from './routes/roles';
import { eventsRoutes } from './routes/events';
import { sourcesRoutes } from './routes/sources';
import { statsRoutes } from './routes/stats';
import { usersRoutes } from './routes/users';
import { INGEST_BODY_LIMIT, INGEST_PATH, ingestCors } from './routes/ingest/cors';
import { ingestRoutes } from './routes/ingest';

const API_BODY_LIMIT = 64 * 1024;
const HEADER_LIMIT = 16 * 1024;
// An oversized stream is read this far before the connection is given up (see bodyLimit).
const DRAIN_LIMIT = 8 * 1024 * 1024;
// application/json, or a +json type, with parameters (as Hono's JSON validator accepts).
const JSON_MEDIA_TYPE = /^application\/([a-z0-9.-]+\+)?json\s*(;.*)?$/i;
// §13: the ingest route also reads text/plain (what navigator.sendBeacon sends a string as).
const TEXT_MEDIA_TYPE = /^text\/plain\s*(;.*)?$/i;

/**
 * 413 for a body over BODY_LIMIT. Like Hono's `bodyLimit`, a declared Content-Length is judged without reading and a
 * streamed body is buffered up to the limit; unlike it, the rest of an oversized stream is read and dropped (up to
 * DRAIN_LIMIT) before answering. A response sent while the client is still uploading makes the runtime reset the
 * connection, and the client then sees a connection error (or `wrangler dev`'s own 503) instead of the 413.
 */
function bodyLimit() {
  return createMiddleware<AppEnv>(async (c, next) => {
    const body = c.req.raw.body;
    if (!body) return next();
    // §13: the ingest route takes up to 512 KiB.
    const BODY_LIMIT = c.req.path === INGEST_PATH ? INGEST_BODY_LIMIT : API_BODY_LIMIT;
    const tooLarge = () => new ApiError(413, 'body-too-large', `The request body is larger than ${BODY_LIMIT} bytes.`);
    const declared = c.req.header('content-length');
    if (declared !== undefined && !c.req.raw.headers.has('transfer-encoding')) {
      if (Number.parseInt(declared, 10) > BODY_LIMIT) throw tooLarge();
      return next();
    }
    const reader = body.getReader();
    const buffer = new Uint8Array(BODY_LIMIT);
    let size = 0;
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      if (size + read.value.byteLength > BODY_LIMIT) {
        size += read.value.byteLength;
        while (size <= DRAIN_LIMIT && !(read = await reader.read()).done) size += read.value.byteLength;
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      buffer.set(read.value, size);
      size += read.value.byteLength;
    }
    c.req.raw = new Request(c.req.raw, { body: buffer.subarray(0, size) });
    await next();
  });
}

export const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
// The methods each path answers to, from the route table (read on first use, when every route is mounted).
const allowed = allowedMethods(app);

app.use(
  requestId({
    headerName: 'X-Request-Id',
    limitLength: 200,
    generator: () => crypto.randomUUID(),
  }),
);
app.use(requestLog());
app.use(async (c, next) => {
  c.set('config', loadConfig(c.env));
  await next();
});
app.use(secureHeaders());
// One cors handler per configuration (i.e. per isolate), not one built for every request.
const corsHandlers = new WeakMap<Config, MiddlewareHandler>();
function corsFor(config: Config): MiddlewareHandler {
  let handler = corsHandlers.get(config);
  if (!handler) {
    const origins = config.CORS_ORIGINS;
    handler = cors({
      origin: (origin) => (origins.includes(origin) ? origin : null),
      allowHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
      allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      exposeHeaders: ['X-Request-Id', 'Retry-After', 'WWW-Authenticate', 'Location'],
      maxAge: 600,
    });
    corsHandlers.set(config, handler);
  }
  return handler;
}
app.use((c, next) => (c.req.path === INGEST_PATH ? ingestCors(c, next) : corsFor(c.var.config)(c, next)));
app.use(async (c, next) => {
  await next();
  // API answers carry tokens and personal data: no shared or browser cache unless a route says otherwise.
  if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store');
});
// Checks of the request itself come after the middleware above, so their answers carry the same headers as any other.
app.use(async (c, next) => {
  let size = 0;
  c.req.raw.headers.forEach((value, name) => (size += name.length + value.length + 4));
  if (size > HEADER_LIMIT) throw new ApiError(431, 'headers-too-large', `The request headers exceed ${HEADER_LIMIT} bytes.`);
  // A query string that does not percent-decode is malformed (400), not merely invalid (422).
  const query = c.req.url.split('?')[1];
  if (query) {
    try {
      decodeURIComponent(query.replace(/\+/g, ' '));
    } catch {
      throw badRequest('The query string is not valid percent-encoded UTF-8.', 'malformed-query');
    }
  }
  // Every body is JSON (contract §0): another type is a 415 on every route, also on those that read no body (the
  // routes that do read one check the same through their validator). An empty body is no body.
  const length = c.req.header('content-length');
  const hasBody = c.req.raw.body !== null && (length === undefined ? c.req.raw.headers.has('transfer-encoding') : length !== '0');
  const type = c.req.header('content-type') ?? '';
  if (hasBody && !JSON_MEDIA_TYPE.test(type) && !(c.req.path === INGEST_PATH && TEXT_MEDIA_TYPE.test(type))) {
    throw new ApiError(415, 'unsupported-media-type', c.req.path === INGEST_PATH ? 'The request body must be application/json or text/plain.' : 'The request body must be application/json.');
  }
  await next();
});
app.use(bodyLimit());
// Only the API and the health check reach the database: the key set, the docs and the console never pay for a handle.
for (const path of ['/health', '/v1/*']) app.use(path, database(), deliverAfterResponse());

app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });

// Everything under /v1 except sign-in itself needs an access token; the permission each route needs is declared at
// the route (requirePermission) and decided by the route's own statement (src/auth/authorize.ts).
// Only a method and path that name a route are authenticated: anything else is a 404 or 405, token or not.
const authenticate = auth();
const authenticated = createMiddleware<AppEnv>(async (c, next) =>
  allowed(c.req.path).includes(c.req.method) ? authenticate(c, next) : next(),
);
for (const resource of ['me', 'users', 'roles', 'permissions', 'stats', 'audit', 'sources', 'events', 'dashboards']) {
  app.use(`/v1/${resource}`, authenticated);
  app.use(`/v1/${resource}/*`, authenticated);
}
// §16: an API key never reaches the caller's own routes (its key management included) nor sign-in and sessions.
const keysRefused = (prefixes: string[], what: string) => {
  const refuse = refuseApiKeys(what);
  const onRoutes = createMiddleware<AppEnv>(async (c, next) => (allowed(c.req.path).includes(c.req.method) ? refuse(c, next) : next()));
  for (const prefix of prefixes) app.use(prefix, onRoutes);
};
keysRefused(['/v1/me', '/v1/me/*'], 'use /v1/me (the person’s own account, sessions and API keys)');
keysRefused(['/v1/auth/*'], 'sign in, refresh or sign out');

const routes = app
  .route('/', health)
  .route('/', jwks)
  .route('/v1/auth', authRoutes)
  .route('/v1/auth/oidc', oidcRoutes)
  .route('/v1/me', me)
  .route('/v1/me/mfa', meMfa)
  .route('/v1/me/passkeys', mePasskeys)
  .route('/v1/auth', passkeySignIn)
  .route('/v1/me/api-keys', myApiKeys)
  .route('/v1/users', usersRoutes)
  .route('/v1/users', userApiKeys)
  .route('/v1/roles', rolesRoutes)
  .route('/v1/permissions', permissionsRoutes)
  .route('/v1/stats', statsRoutes)
  .route('/v1/audit', auditRoutes)
  .route('/v1/sources', sourcesRoutes)
  .route('/v1/dashboards', dashboardsRoutes)
  .route(INGEST_PATH, ingestRoutes)
  .route('/v1/events', eventsRoutes)
  .route('/v1/dev', mailbox);

app.route('/', docs(app));
app.route('/', consoleRoutes);

app.notFound((c) => {
  const methods = allowed(c.req.path);
  if (methods.length > 0) {
    return problem(c, 405, 'method-not-allowed', `${c.req.method} is not allowed here.`, {
      headers: { Allow: methods.join(', ') },
    });
  }
  return problem(c, 404, 'not-found', `No route for ${c.req.method} ${c.req.path}.`);
});

app.onError((error, c) => {
  if (error instanceof ApiError) {
    return problem(c, error.status as ContentfulStatusCode, error.slug, error.detail, {
      errors: error.errors,
      headers: error.headers,
    });
  }
  if (error instanceof HTTPException) {
    // Raised by Hono itself: malformed JSON (400), a media-type gate (415).
    const status = error.status as ContentfulStatusCode;
    const slug = status === 400 ? 'malformed-json' : status === 415 ? 'unsupported-media-type' : 'http-error';
    const detail =
      status === 400 ? 'The request body is not valid JSON.' : status === 415 ? 'The request body must be application/json.' : error.message;
    return problem(c, status, slug, detail);
  }
  const requestId = c.get('requestId');
  // Characters PostgreSQL cannot store (U+0000) are refused by the schemas; this catches any field they missed.
  const state = sqlState(error);
  if (state === '22021' || state === '22P05') {
    return problem(c, 422, 'validation-error', 'The request contains a character that cannot be stored (U+0000).');
  }
  // The database's own guard of the built-in roles (drizzle/0005_self_protection.sql), should a route not check first.
  if (state === 'P0A02') return problem(c, 409, 'built-in-role', 'The built-in roles cannot be deleted or renamed.');
  if (isDatabaseUnavailable(error)) {
    console.error(JSON.stringify({ level: 'error', msg: 'database unavailable', requestId, error: describeError(error) }));
    const e = serviceUnavailable();
    return problem(c, 503, e.slug, e.detail, { headers: e.headers });
  }
  const msg = error instanceof ConfigError ? error.message : 'unhandled error';
  console.error(JSON.stringify({ level: 'error', msg, requestId, error: describeError(error) }));
  return problem(c, 500, 'internal-error', `Something went wrong on our side. Quote request id ${requestId} when reporting it.`);
});

export type AppType = typeof routes;
