import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { startLocalPostgres } from '../../packages/pg/src/local-postgres.js';
import './provided-context.js';

const run = promisify(execFile);
const script = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * Kafka's jars and the schema registry, fetched (built) once before any test file starts one: on
 * a new machine two files would otherwise fetch into the same cache at once, and a first build
 * (about 2 minutes) would outlast a file's beforeAll. Nothing to do once cached.
 */
async function fetchServices(): Promise<void> {
  const fetching = [script('../../infra/kafka/kafka.sh'), script('../../infra/schema-registry/registry.sh')].map(async (path) => {
    try {
      await run('bash', [path, 'fetch'], { timeout: 900_000 });
    } catch (error) {
      const { stderr } = error as { stderr?: string };
      throw new Error(`${path} fetch failed (Java 17 and Maven needed): ${stderr ?? String(error)}`);
    }
  });
  const slow = setTimeout(() => console.log('fetching Kafka and building the schema registry from Maven Central (first run only, about 2 minutes)'), 5_000);
  try {
    await Promise.all(fetching);
  } finally {
    clearTimeout(slow);
  }
}

/**
 * Starts one local Postgres (system binaries, wal_level=logical) for the whole integration run and
 * hands its superuser URL to the tests as `inject('pgUrl')`. Each test makes its own database
 * (test/support/postgres.ts), so one server is enough. fsync is off: the cluster is thrown away.
 * Fetches the Java services' artifacts meanwhile (fetchServices).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const startedAt = Date.now();
  const [started, fetched] = await Promise.allSettled([startLocalPostgres({ durable: false }), fetchServices()]);
  if (started.status === 'rejected') throw started.reason;
  const server = started.value;
  if (fetched.status === 'rejected') {
    await server.stop();
    throw fetched.reason;
  }
  project.provide('pgUrl', server.url);
  if (process.env.WALAUDIT_TEST_VERBOSE) console.log(`local Postgres at ${server.url} in ${Date.now() - startedAt} ms`);
  return () => server.stop();
}
