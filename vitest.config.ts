import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

process.env.WRANGLER_SEND_METRICS = 'false';
process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';

export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        bindings: {
          // Tests clone their own databases from the template (test/harness.ts); this one only serves tests that
          // never reach a table.
          DATABASE_URL: inject('pgUrl'),
          DB_PROXY: inject('dbProxy'),
          TEST_PG_URL: inject('pgUrl'),
          JWT_PRIVATE_KEY: inject('jwtPrivateKey'),
          TEST_SECOND_KEY: inject('jwtSecondKey'),
          // Cheap hashing keeps hundreds of sign-ins fast; the production parameters are measured by the benchmark.
          PASSWORD_HASH_PARAMS: 'N=1024,r=8,p=1',
          SERVER_TIMING: 'true',
          ALLOW_SIGNUP: 'true',
          CORS_ORIGINS: 'https://dashboard.example.com',
        },
      },
    })),
  ],
  test: {
    globalSetup: ['./test/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The one-line-per-request logs are for production; in test output they drown the failures.
    onConsoleLog: (log) => !log.includes('"msg":"request"'),
  },
});
