import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { PGBOUNCER, pgbouncerVersion } from './scripts/dev/pgbouncer';

process.env.WRANGLER_SEND_METRICS = 'false';
process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';

// The one-line-per-request logs are for production; in test output they drown the failures.
const quietRequestLogs = (log: string) => !log.includes('"msg":"request"');

/**
 * The route suite inside workerd. `pgbouncer` is the pooled profile: PostgreSQL behind PgBouncer configured as Neon's
 * pooled endpoint, the Worker on its WebSocket transport through it (test/global-setup.ts picks by project name).
 */
function workersProject(name: string, include: string[], bindings: Record<string, string> = {}, groupOrder = 0) {
  return {
    // The API itself, inside workerd, against a real PostgreSQL started by the global setup.
    plugins: [
      cloudflareTest(({ inject }) => ({
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          bindings: {
            // Tests clone their own databases from the template (test/harness.ts); this one only serves tests
            // that never reach a table.
            // The queue path's project: Queues call the consumer with these bindings, so its database is a fixed one
            // (test/ingest.test.ts makes it from the template) instead of each file's own clone.
            DATABASE_URL: bindings.TEST_INGEST_PATH === 'queue' ? inject('pgUrl').replace(/\/[^/?]*(\?|$)/, '/ingest_queue$1') : inject('pgUrl'),
            DB_PROXY: inject('dbProxy'),
            TEST_PG_URL: inject('pgUrl'),
            JWT_PRIVATE_KEY: inject('jwtPrivateKey'),
            JWT_PUBLIC_KEYS: '[]',
            TEST_SECOND_KEY: inject('jwtSecondKey'),
            CURSOR_SECRET: inject('cursorSecret'),
            TEST_SECOND_CURSOR_SECRET: inject('cursorSecondSecret'),
            MFA_ENCRYPTION_KEY: inject('mfaKey'),
            // The local stand-in of the email provider's API (scripts/stand-ins/resend.ts); the default transport is dev.
            TEST_RESEND_URL: inject('resendUrl'),
            // Cheap hashing keeps hundreds of sign-ins fast; the production cost is measured by the benchmark.
            // Argon2id like production (test/node/* and test/password.test.ts cover scrypt hashes). Parameters below
            // OWASP's floor are refused at start-up unless this test-only switch says otherwise.
            PASSWORD_HASH_PARAMS: 'argon2id:m=256,t=1,p=1',
            INSECURE_PASSWORD_HASH_FOR_TESTS: 'true',
            // The local stand-in for Have I Been Pwned (scripts/stand-ins/hibp.ts), with its fault variants.
            HIBP_URL: inject('hibpUrl'),
            TEST_HIBP_SLOW_URL: inject('hibpSlowUrl'),
            TEST_HIBP_DOWN_URL: inject('hibpDownUrl'),
            HIBP_TIMEOUT_MS: '3000',
            SERVER_TIMING: 'true',
            // Set here, not left to wrangler.toml: a developer's .dev.vars (npm run dev) is read too.
            ALLOW_SIGNUP: 'true',
            TRUSTED_IP_HEADER: 'cf-connecting-ip',
            HIBP_ENABLED: 'true',
            CORS_ORIGINS: 'https://dashboard.example.com',
            // Single sign-on through the OpenID providers of test/oidc-setup.ts.
            OIDC_PROVIDERS: inject('oidcProviders'),
            OIDC_LOCAL_CLIENT_SECRET: inject('oidcLocalSecret'),
            OIDC_ROGUE_CLIENT_SECRET: inject('oidcRogueSecret'),
            ...bindings,
          },
          // A second Rate Limiting binding that refuses the second request per key and minute, so a test can see the
          // binding's refusal (wrangler.toml's AUTH_RATE_LIMITER allows 600 a minute): test/rate-limit.test.ts.
          ratelimits: { TEST_REFUSING_LIMITER: { simple: { limit: 1, period: 60 } } },
        },
      })),
    ],
    test: {
      name,
      globalSetup: ['./test/global-setup.ts', './test/oidc-setup.ts'],
      include,
      exclude: ['test/node/**', 'test/browser/**'],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      sequence: { groupOrder },
    },
  };
}

// The pooled profile runs a representative subset (every route once with its statement budget, sign-in and refresh
// races, the last-admin triggers and their 409s, concurrent role changes, statement timeouts) to keep CI
// short; the whole suite runs in `workers`.
const POOLED_SUBSET = ['test/db.test.ts', 'test/budgets.test.ts', 'test/auth.test.ts', 'test/users.test.ts', 'test/me.test.ts'];
const pooledProfile = pgbouncerVersion()
  ? // After the others (group 1): two suites in parallel on two cores would slow the CPU-heavy ones past their timeouts.
    workersProject('pgbouncer', POOLED_SUBSET, { DB_TRANSPORT: 'websocket' }, 1)
  : undefined;
if (!pooledProfile && !process.env.VITEST_WORKER_ID) {
  console.log(`PgBouncer profile NOT run: PgBouncer is not installed (${PGBOUNCER}); \`apt-get install pgbouncer\` to run it (.ci/run does).`);
}

export default defineConfig({
  test: {
    onConsoleLog: quietRequestLogs,
    // vitest's default is one file at a time on two cores (cores - 1), yet a file of this suite spends much of its
    // time waiting on the Worker, PostgreSQL and the proxy: two files at once keep both cores busy (CI: 2 cores).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      workersProject('workers', ['test/**/*.test.ts']),
      // §13's route through the real local Cloudflare Queue and the Worker's own consumer (the workers project runs it
      // on the direct path), after the others (group 1).
      workersProject('ingest-queue', ['test/ingest.test.ts'], { TEST_INGEST_PATH: 'queue', INGEST_RETRY_BASE_SECONDS: '0' }, 1),
      ...(pooledProfile ? [pooledProfile] : []),
      {
        // Checks that need Node: the OpenAPI schema validator, the scripts.
        test: {
          name: 'node',
          environment: 'node',
          globalSetup: ['./test/node/build-setup.ts'],
          include: ['test/node/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        // The console in a real Chromium (playwright-core) against a live stack; see test/browser/browser.ts.
        test: {
          name: 'browser',
          environment: 'node',
          globalSetup: ['./test/node/build-setup.ts'],
          include: ['test/browser/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
