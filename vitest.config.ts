import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Tests run against the TypeScript sources of the workspace packages, not their build output.
const alias = {
  '@walaudit/core': src('./packages/core/src/index.ts'),
  '@walaudit/pg': src('./packages/pg/src/index.ts'),
  '@walaudit/clickhouse': src('./packages/clickhouse/src/index.ts'),
  '@walaudit/wal-reader': src('./services/wal-reader/src/index.ts'),
  '@walaudit/audit-writer': src('./services/audit-writer/src/index.ts'),
  '@walaudit/api': src('./services/api/src/index.ts'),
  '@walaudit/kafka': src('./packages/kafka/src/index.ts'),
  '@walaudit/alerter': src('./services/alerter/src/index.ts'),
  '@walaudit/correlator': src('./services/correlator/src/index.ts'),
  '@walaudit/restorer': src('./services/restorer/src/index.ts'),
};

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts'],
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // chDB allows one data directory per process: each test file gets its own worker process.
          pool: 'forks',
          poolOptions: { forks: { maxForks: 2, minForks: 1 } },
        },
      },
    ],
  },
});
