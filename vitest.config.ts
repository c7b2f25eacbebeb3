import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

process.env.WRANGLER_SEND_METRICS = 'false';
process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';

// The one-line-per-request logs are for production; in test output they drown the failures.
const quietRequestLogs = (log: string) => !log.includes('"msg":"request"');

export default defineConfig({
  test: {
    onConsoleLog: quietRequestLogs,
    projects: [
      {
        // The API itself, inside workerd, against a real PostgreSQL started by the global setup.
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                // Tests clone their own databases from the template (test/harness.ts); this one only serves tests
                // that never reach a table.
                DATABASE_URL: inject('pgUrl'),
                DB_PROXY: inject('dbProxy'),
                TEST_PG_URL: inject('pgUrl'),
                JWT_PRIVATE_KEY: inject('jwtPrivateKey'),
                JWT_PUBLIC_KEYS: '[]',
                TEST_SECOND_KEY: inject('jwtSecondKey'),
                // Cheap hashing keeps hundreds of sign-ins fast; the production cost is measured by the benchmark.
                PASSWORD_HASH_PARAMS: 'N=1024,r=8,p=1',
                SERVER_TIMING: 'true',
                ALLOW_SIGNUP: 'true',
                CORS_ORIGINS: 'https://dashboard.example.com',
              },
            },
          })),
        ],
        test: {
          name: 'workers',
          globalSetup: ['./test/global-setup.ts'],
          include: ['test/**/*.test.ts'],
          exclude: ['test/node/**'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        // Checks that need Node: the OpenAPI schema validator, the scripts.
        test: {
          name: 'node',
          environment: 'node',
          include: ['test/node/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        // The console in a real Chromium (playwright-core) against a live stack; see test/browser/browser.ts.
        test: {
          name: 'browser',
          environment: 'node',
          include: ['test/browser/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
