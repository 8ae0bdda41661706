import type { TestProject } from 'vitest/node';
import { startLocalPostgres } from '../../packages/pg/src/local-postgres.js';
import './provided-context.js';

/**
 * Starts one local Postgres (system binaries, wal_level=logical) for the whole integration run and
 * hands its superuser URL to the tests as `inject('pgUrl')`. Each test makes its own database
 * (test/support/postgres.ts), so one server is enough. fsync is off: the cluster is thrown away.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const startedAt = Date.now();
  const server = await startLocalPostgres({ durable: false });
  project.provide('pgUrl', server.url);
  if (process.env.WALAUDIT_TEST_VERBOSE) console.log(`local Postgres at ${server.url} in ${Date.now() - startedAt} ms`);
  return () => server.stop();
}
