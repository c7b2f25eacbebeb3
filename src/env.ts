import { z } from 'zod';
import type { Db } from './db/client';

/** The Worker's bindings as wrangler hands them over: strings, validated once by `loadConfig`. */
export interface Bindings {
  DATABASE_URL?: string;
  DB_PROXY?: string;
  DB_CONNECT_TIMEOUT_MS?: string;
  DB_STATEMENT_TIMEOUT_MS?: string;
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
  /** Cloudflare's Rate Limiting binding (wrangler.toml [[ratelimits]]); absent elsewhere. */
  AUTH_RATE_LIMITER?: RateLimit;
  /** The console's and /docs' static files (wrangler.toml [assets]); absent where no assets are configured. */
  ASSETS?: Fetcher;
}

/** The authenticated caller, taken from the access token alone. */
export interface Caller {
  id: number;
  roles: string[];
  sid: string;
}

export interface AppEnv {
  Bindings: Bindings;
  Variables: {
    config: Config;
    db: Db;
    requestId: string;
    caller: Caller;
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

const configSchema = z.object({
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }),
  DB_PROXY: z
    .string()
    .regex(/^[\w.-]+:\d+$/, 'must be host:port')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  DB_CONNECT_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
  DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().nonnegative().default(10_000),
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
    .regex(/^N=\d+,r=\d+,p=\d+$/, 'must look like N=16384,r=8,p=5')
    .default('N=16384,r=8,p=5'),
  SERVER_TIMING: flag.default(false),
  RATE_LIMIT_PER_MINUTE: seconds.default(600),
});

export type Config = z.infer<typeof configSchema>;

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
  config = parsed.data;
  cache.set(env, config);
  return config;
}
