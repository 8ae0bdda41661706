import { findPostgresBinDir, runPostgresBinary, startLocalPostgres, type LocalPostgres } from '@walaudit/pg';
import { tempDir } from './temp-dir.js';

export interface RestartablePostgres {
  /** Superuser URL; stays the same across restarts (same port). */
  url: string;
  /** `pg_ctl stop -m immediate`: every backend dies at once, as in a crash; recovery runs on the next start. */
  crash(): Promise<void>;
  /** Starts the cluster again on the same directory and port; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Fast shutdown (the directory goes with the test file's temp dirs). */
  stop(): Promise<void>;
}

/**
 * A throwaway cluster of the test's own, to stop and start under a running walaudit: the run's
 * shared server must stay up for the other test files.
 */
export async function startRestartablePostgres(): Promise<RestartablePostgres> {
  // As root the cluster runs as `postgres`, which must reach the directory: the temp dir itself is
  // the base directory (startLocalPostgres hands it to `postgres`), not a folder inside it.
  const baseDir = tempDir('chaos-pg');
  const binDir = findPostgresBinDir();
  let server: LocalPostgres | null = await startLocalPostgres({ baseDir, durable: false });
  const { url, port, dataDir } = server;
  return {
    url,
    async crash() {
      await runPostgresBinary(binDir, 'pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      server = null;
    },
    async start() {
      server = await startLocalPostgres({ baseDir, port, durable: false, binDir });
    },
    async stop() {
      await server?.stop();
      server = null;
    },
  };
}
