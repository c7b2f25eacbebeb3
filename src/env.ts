import { z } from 'zod';
import type { AuthzState } from './auth/authorize';
import type { Db } from './db/client';
import { BELOW_OWASP, weakHashParams } from './auth/hash-params';
import { oidcProvidersSchema, resolveOidcSecrets, type OidcProviderConfig } from './auth/oidc/config';

/** The Worker's bindings as wrangler hands them over: strings, validated once by `loadConfig`. */
export interface Bindings {
  DATABASE_URL?: string;
  DB_PROXY?: string;
  DB_TRANSPORT?: string;
  DB_CONNECT_TIMEOUT_MS?: string;
  DB_QUERY_TIMEOUT_MS?: string;
  JWT_PRIVATE_KEY?: string;
  JWT_PUBLIC_KEYS?: string;
  JWT_ISSUER?: string;
  JWT_AUDIENCE?: string;
  ACCESS_TOKEN_TTL?: string;
  REFRESH_TOKEN_TTL?: string;
  ALLOW_SIGNUP?: string;
  CORS_ORIGINS?: string;
  LOGIN_MAX_FAILURES?: string;
  LOGIN_WINDOW_SECONDS?: string;
  PASSWORD_HASH_PARAMS?: string;
  SERVER_TIMING?: string;
  RATE_LIMIT_PER_MINUTE?: string;
  MFA_REQUIRED_ROLES?: string;
  TRUSTED_IP_HEADER?: string;
  CURSOR_SECRET?: string;
  INSECURE_PASSWORD_HASH_FOR_TESTS?: string;
  HIBP_ENABLED?: string;
  HIBP_URL?: string;
  HIBP_TIMEOUT_MS?: string;
  MFA_ENCRYPTION_KEY?: string;
  MFA_ENCRYPTION_PREVIOUS_KEYS?: string;
  MFA_ISSUER?: string;
  APP_URL?: string;
  EMAIL_FROM?: string;
  EMAIL_TRANSPORT?: string;
  RESEND_API_KEY?: string;
  RESEND_API_URL?: string;
  EMAIL_MAX_ATTEMPTS?: string;
  INVITATION_TTL?: string;
  PASSWORD_RESET_TTL?: string;
  EMAIL_VERIFICATION_TTL?: string;
  EMAIL_CHANGE_TTL?: string;
  REQUIRE_VERIFIED_EMAIL?: string;
  OUTBOX_RETENTION_DAYS?: string;
  SESSION_RETENTION_DAYS?: string;
  AUDIT_RETENTION_DAYS?: string;
  DASHBOARD_CACHE_SECONDS?: string;
  /** JSON list of OpenID providers (contract §18, docs/sso.md); each one's secret is bound as OIDC_<ID>_CLIENT_SECRET. */
  OIDC_PROVIDERS?: string;
  /** Cloudflare's Rate Limiting binding (wrangler.toml [[ratelimits]]); absent elsewhere. */
  AUTH_RATE_LIMITER?: RateLimit;
  INGEST_EVENTS_PER_MINUTE?: string;
  HEAVY_QUERIES_PER_CALLER?: string;
  STATS_UNTRACKED_MAX_DAYS?: string;
  INGEST_RETRY_BASE_SECONDS?: string;
  INGEST_DEDUP_DAYS?: string;
  /** Cloudflare Queues producer of the ingest path (wrangler.toml [[queues.producers]]); absent: the direct path. */
  INGEST_QUEUE?: Queue;
  /** Cloudflare's Rate Limiting binding for requests made with an API key (§16), keyed by key; absent elsewhere. */
  API_KEY_RATE_LIMITER?: RateLimit;
  API_KEY_RATE_LIMIT_PER_MINUTE?: string;
  /** The console's and /docs' static files (wrangler.toml [assets]); absent where no assets are configured. */
  ASSETS?: Fetcher;
}

/**
 * Who the access token says the caller is. It decides nothing by itself: every guarded statement checks the session,
 * the account and the permission against the present state (src/auth/authorize.ts).
 */
export interface Caller {
  id: number;
  /** The session (sessions.id) the token belongs to. */
  sid: string;
  /** RFC 8176 authentication methods: ["pwd"], or ["pwd", "otp"] after a second factor. */
  amr: string[];
  /**
   * Set when the credential is a personal API key (§16) instead of an access token. Then `id` is 0 (never a user
   * id) and `sid`/`amr` are empty: the key's owner is known only inside the guarded statement (`g.id`), which looks
   * the key up by this SHA-256 (hex). Code comparing `id` in JavaScript must check `apiKey` first.
   */
  apiKey?: { hash: string };
}

export interface AppEnv {
  Bindings: Bindings;
  Variables: {
    config: Config;
    db: Db;
    requestId: string;
    caller: Caller;
    /** What the route declared with `requirePermission`, and whether the database has decided yet. */
    authz: AuthzState;
  };
}

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const seconds = z.coerce.number().int().positive();
const jwk = z.looseObject({ kty: z.string(), kid: z.string().min(1) });

const jsonOf = <T extends z.ZodType>(schema: T) =>
  z.string().transform((text, ctx): z.infer<T> => {
    try {
      const parsed = schema.safeParse(JSON.parse(text));
      if (parsed.success) return parsed.data;
      ctx.addIssue({ code: 'custom', message: parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ') });
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not valid JSON' });
    }
    return z.NEVER;
  });

/** `<key id>:<32 random bytes, base64url>`: a key that seals TOTP secrets (src/auth/seal.ts). */
const sealKey = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,40}:[A-Za-z0-9_-]{43}$/, 'must be <key id>:<32 bytes, base64url> (see the README, MFA keys)')
  .transform((s) => ({ id: s.slice(0, s.indexOf(':')), secret: s.slice(s.indexOf(':') + 1) }));
const list = z
  .string()
  .default('')
  .transform((s) => s.split(',').map((o) => o.trim()).filter(Boolean));

const configSchema = z
  .object({
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }),
  DB_PROXY: z
    .string()
    .regex(/^[\w.-]+:\d+(\/[\w-]+)?$/, 'must be host:port or host:port/secret')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  DB_TRANSPORT: z.enum(['http', 'websocket']).default('http'),
  DB_CONNECT_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
  // Above the role's statement_timeout (10 s, see README), so the database stops a runaway statement first.
  DB_QUERY_TIMEOUT_MS: z.coerce.number().int().positive().default(15_000),
  JWT_PRIVATE_KEY: jsonOf(jwk.extend({ d: z.string() })),
  JWT_PUBLIC_KEYS: jsonOf(z.array(jwk)).default([]),
  JWT_ISSUER: z.string().min(1).default('dashboard-analytics-api'),
  JWT_AUDIENCE: z.string().min(1).default('dashboard-analytics'),
  ACCESS_TOKEN_TTL: seconds.default(900),
  REFRESH_TOKEN_TTL: seconds.default(30 * 24 * 3600),
  ALLOW_SIGNUP: flag.default(false),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((o) => o.trim()).filter(Boolean)),
  LOGIN_MAX_FAILURES: seconds.default(5),
  LOGIN_WINDOW_SECONDS: seconds.default(15 * 60),
  PASSWORD_HASH_PARAMS: z
    .string()
    .regex(/^(argon2id:m=\d+,t=\d+,p=\d+|N=\d+,r=\d+,p=\d+)$/, 'must look like argon2id:m=19456,t=2,p=1 (or scrypt N=16384,r=8,p=5)')
    // OWASP's first Argon2id setting: about a quarter of the CPU of the scrypt setting of version 1 (README, Passwords).
    .default('argon2id:m=19456,t=2,p=1'),
  // Test suites hash hundreds of passwords: only this explicitly named switch lets them use cheap parameters.
  INSECURE_PASSWORD_HASH_FOR_TESTS: flag.default(false),
  SERVER_TIMING: flag.default(false),
  RATE_LIMIT_PER_MINUTE: seconds.default(600),
  // Requests per key per minute where the API_KEY_RATE_LIMITER binding is absent (counted in PostgreSQL).
  API_KEY_RATE_LIMIT_PER_MINUTE: seconds.default(600),
  // Roles whose holders must have signed in with a second factor (contract §10); empty: nobody.
  MFA_REQUIRED_ROLES: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((r) => r.trim()).filter(Boolean)),
  TRUSTED_IP_HEADER: z
    .string()
    .regex(/^[a-z0-9-]{0,64}$/i, 'must be a header name, or empty for none')
    .default('')
    .transform((s) => s.toLowerCase()),
  CURSOR_SECRET: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43,}$/, 'must be at least 32 random bytes, base64url-encoded'),
  HIBP_ENABLED: flag.default(true),
  HIBP_URL: z.url({ protocol: /^https?$/ }).default('https://api.pwnedpasswords.com/range/'),
  HIBP_TIMEOUT_MS: z.coerce.number().int().positive().max(10_000).default(1500),
  // Unset: the API runs, and only the second-factor routes fail (500, logged naming the variable).
  MFA_ENCRYPTION_KEY: sealKey.optional(),
  MFA_ENCRYPTION_PREVIOUS_KEYS: list.pipe(z.array(sealKey)),
  MFA_ISSUER: z.string().min(1).max(100).default('Dashboard Analytics'),
  // Account lifecycle and email (contract §9, docs/lifecycle.md).
  APP_URL: z
    .url({ protocol: /^https?$/ })
    .transform((u) => u.replace(/\/+$/, ''))
    .optional()
    .or(z.literal('').transform(() => undefined)),
  EMAIL_FROM: z.string().min(3).optional().or(z.literal('').transform(() => undefined)),
  EMAIL_TRANSPORT: z.enum(['dev', 'resend']).default('dev'),
  RESEND_API_KEY: z.string().min(1).optional().or(z.literal('').transform(() => undefined)),
  RESEND_API_URL: z
    .url({ protocol: /^https?$/ })
    .transform((u) => u.replace(/\/+$/, ''))
    .default('https://api.resend.com'),
  EMAIL_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
  INVITATION_TTL: seconds.default(7 * 24 * 3600),
  PASSWORD_RESET_TTL: seconds.default(30 * 60),
  EMAIL_VERIFICATION_TTL: seconds.default(24 * 3600),
  EMAIL_CHANGE_TTL: seconds.default(3600),
  REQUIRE_VERIFIED_EMAIL: flag.default(false),
  OUTBOX_RETENTION_DAYS: z.coerce.number().int().min(1).default(7),
  SESSION_RETENTION_DAYS: z.coerce.number().int().min(0).default(7),
  // 0 keeps audit events forever.
  AUDIT_RETENTION_DAYS: z.coerce
    .number()
    .int()
    .refine((d) => d === 0 || d >= 30, 'must be 0 (keep forever) or at least 30: purge_audit_events() keeps the last 30 days')
    .default(0),
  // How old a dashboard's figures may be (contract §15); 0 computes them on every request.
  DASHBOARD_CACHE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),
  // Contract §13's per-source limit, and the backoff of the queue consumer's retries (docs/ingest.md).
  INGEST_EVENTS_PER_MINUTE: z.coerce.number().int().positive().max(2_000_000_000).default(600_000),
  INGEST_RETRY_BASE_SECONDS: z.coerce.number().int().min(0).max(600).default(5),
  // How long a messageId is remembered for exactly once (§13); 0 keeps it forever (docs/ingest.md, 0026).
  INGEST_DEDUP_DAYS: z.coerce.number().int().min(0).max(36_500).default(0),
  // Heavy analytics statements one caller may run at once (src/lib/heavy-queries.ts), and the longest span the stats
  // routes read from the per-user masks in a zone that is not tracked (docs/analytics.md).
  HEAVY_QUERIES_PER_CALLER: z.coerce.number().int().min(1).max(50).default(2),
  STATS_UNTRACKED_MAX_DAYS: z.coerce.number().int().min(7).max(400).default(92),
  // Single sign-on (contract §18, docs/sso.md): none by default.
  OIDC_PROVIDERS: z.preprocess((v) => (v === '' ? undefined : v), jsonOf(oidcProvidersSchema).default([])),
})
  .superRefine((config, ctx) => {
    const weak = weakHashParams(config.PASSWORD_HASH_PARAMS);
    if (weak && !(weak === BELOW_OWASP && config.INSECURE_PASSWORD_HASH_FOR_TESTS)) ctx.addIssue({ code: 'custom', path: ['PASSWORD_HASH_PARAMS'], message: weak });
    // A real provider without its settings would queue mail that can never leave: refuse to start instead.
    const missing = config.EMAIL_TRANSPORT === 'dev' ? [] : (['RESEND_API_KEY', 'EMAIL_FROM', 'APP_URL'] as const).filter((name) => !config[name]);
    for (const name of missing) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `is required with EMAIL_TRANSPORT=${config.EMAIL_TRANSPORT}${name === 'RESEND_API_KEY' ? ' (set it with `wrangler secret put RESEND_API_KEY`)' : ''}`,
      });
    }
  });

export type Config = Omit<z.infer<typeof configSchema>, 'OIDC_PROVIDERS'> & { OIDC_PROVIDERS: OidcProviderConfig[] };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const cache = new WeakMap<object, Config>();

/** Parses the bindings once per isolate (per bindings object) and fails with the names of the wrong variables. */
export function loadConfig(env: Bindings): Config {
  let config = cache.get(env);
  if (config) return config;
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const wrong = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${wrong}`);
  }
  // Each provider's client secret is a binding of its own (a secret), named after the provider.
  const oidc = resolveOidcSecrets(parsed.data.OIDC_PROVIDERS, env as unknown as Record<string, unknown>);
  if (oidc.missing.length > 0) {
    const wrong = oidc.missing.map((name) => `${name}: is required by OIDC_PROVIDERS (set it with \`wrangler secret put ${name}\`)`);
    throw new ConfigError(`invalid configuration: ${wrong.join('; ')}`);
  }
  config = { ...parsed.data, OIDC_PROVIDERS: oidc.providers };
  cache.set(env, config);
  return config;
}
