import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { findFreePort } from '@walaudit/pg';
import { tempDir } from './temp-dir.js';

/** Debian's pgbouncer (`apt-get install pgbouncer`; .ci/run installs it). */
export const PGBOUNCER = '/usr/sbin/pgbouncer';

export interface PgBouncerOptions {
  pool: 'session' | 'transaction' | 'statement';
  /** Server connections per database and user: 1 makes every client share one. */
  poolSize: number;
}

export interface RunningPgBouncer {
  /** `url` with the host and port of PgBouncer instead of Postgres (any user name is let in). */
  urlFor(url: string): string;
  stop(): Promise<void>;
}

/**
 * A PgBouncer on a free loopback port in front of the Postgres of `serverUrl`, logging in to it as
 * that URL's user whoever the client claims to be (auth_type any), as an application's shared
 * role does behind a pooler. PgBouncer refuses to run as root: as root it runs as `postgres`.
 */
export async function startPgBouncer(serverUrl: string, options: PgBouncerOptions): Promise<RunningPgBouncer> {
  const server = new URL(serverUrl);
  const dir = tempDir('pgbouncer');
  // The postgres user must read the config and write the pid file.
  chmodSync(dir, 0o777);
  const port = await findFreePort();
  const config = join(dir, 'pgbouncer.ini');
  writeFileSync(
    config,
    [
      '[databases]',
      `* = host=${server.hostname} port=${server.port} user=${decodeURIComponent(server.username) || 'postgres'}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = any',
      `pool_mode = ${options.pool}`,
      `default_pool_size = ${options.poolSize}`,
      'max_client_conn = 50',
      `pidfile = ${join(dir, 'pgbouncer.pid')}`,
      'ignore_startup_parameters = extra_float_digits',
      '',
    ].join('\n'),
  );
  chmodSync(config, 0o644);
  const asRoot = process.getuid?.() === 0;
  const child: ChildProcess = asRoot
    ? spawn('runuser', ['-u', 'postgres', '--', PGBOUNCER, config], { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(PGBOUNCER, [config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitForPort(port, 10_000, () => child.exitCode !== null, () => stderr);
  return {
    urlFor(url: string) {
      const parsed = new URL(url);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(port);
      return parsed.toString();
    },
    async stop() {
      const pidFile = join(dir, 'pgbouncer.pid');
      // runuser passes no signal on to its child: stop pgbouncer itself, by the pid it wrote.
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0;
      if (pid > 0) process.kill(pid, 'SIGTERM');
      else child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    },
  };
}

async function waitForPort(port: number, timeoutMs: number, died: () => boolean, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (died()) throw new Error(`pgbouncer exited at start: ${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`pgbouncer did not listen on ${port} within ${timeoutMs} ms: ${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
