import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { WalauditError, describeError } from '@walaudit/core';
import { findFreePort } from './free-port.js';
import { findPostgresBinDir, runPostgresBinary, runsAsRoot } from './postgres-binaries.js';

const execFileAsync = promisify(execFile);
const HOST = '127.0.0.1';

export interface LocalPostgresOptions {
  /**
   * Directory that holds the cluster (`data/`, the Unix socket, `postgres.log`). When given, a cluster
   * already in it is reused (a server still running on it is taken over, on its port) and kept by
   * `stop()` (the demo keeps its data across runs). Default: a new
   * temporary directory that `stop()` removes. As root it must be reachable by the `postgres` user.
   */
  baseDir?: string;
  /** TCP port on 127.0.0.1. Default: a free port, picked anew if the server cannot bind it. */
  port?: number;
  /** Adds `max_replication_slots=20 -c max_wal_senders=20`. @defaultValue true */
  logicalSettings?: boolean;
  /** `replica` lets a test see walaudit's wal_level error. @defaultValue 'logical' */
  walLevel?: 'logical' | 'replica';
  /**
   * `false` turns off fsync and full_page_writes: a machine crash can then corrupt the cluster, which
   * only tests that throw the cluster away may accept. synchronous_commit stays on: logical decoding
   * only reads flushed WAL, so with it off a commit reaches the slot up to ~0.6 s late. Kept on by default so the
   * demo's data, and the audit trail's restores from it, survive like a real database's. @defaultValue true
   */
  durable?: boolean;
  /** Directory of initdb, pg_ctl and postgres; default: the newest under /usr/lib/postgresql. */
  binDir?: string;
}

export interface LocalPostgres {
  /** Superuser URL, trust auth: `postgres://postgres@127.0.0.1:PORT/postgres`. */
  url: string;
  host: string;
  port: number;
  dataDir: string;
  /** A shell command that opens psql on this server. */
  psqlCommand: string;
  /** Stops the server (fast shutdown); removes the directory when it was a temporary one. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a throwaway (or, with `baseDir`, persistent) Postgres cluster from the system binaries, for
 * tests and for the no-setup demo. Resolves once it accepts TCP connections.
 */
export async function startLocalPostgres(options: LocalPostgresOptions = {}): Promise<LocalPostgres> {
  const binDir = options.binDir ?? findPostgresBinDir();
  const temporary = options.baseDir === undefined;
  const baseDir = temporary ? await mkdtemp(join(tmpdir(), 'walaudit-pg-')) : resolve(options.baseDir!);
  const dataDir = join(baseDir, 'data');
  try {
    mkdirSync(baseDir, { recursive: true });
    // initdb runs as `postgres` when we are root: it must own the directory it writes into.
    if (runsAsRoot()) await execFileAsync('chown', ['-R', 'postgres', baseDir]);
    if (!existsSync(join(dataDir, 'PG_VERSION'))) {
      await runPostgresBinary(binDir, 'initdb', [
        '-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync',
      ]);
    }
    // A server left running on this directory (its parent died without stop()) is taken over.
    const port = (await runningPort(binDir, dataDir)) ?? (await startServer(binDir, baseDir, dataDir, options));
    const url = `postgres://postgres@${HOST}:${port}/postgres`;
    await waitUntilConnectable(url);
    let stopped = false;
    return {
      url,
      host: HOST,
      port,
      dataDir,
      psqlCommand: `${existsSync('/usr/bin/psql') ? 'psql' : join(binDir, 'psql')} ${url}`,
      async stop() {
        if (stopped) return;
        stopped = true;
        // Someone may have stopped it already (another handle on the same baseDir): that is fine.
        if (existsSync(join(dataDir, 'postmaster.pid'))) {
          await runPostgresBinary(binDir, 'pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
        }
        if (temporary) await rm(baseDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (temporary) await rm(baseDir, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
}

/** pg_ctl start; when we picked the port ourselves and someone took it meanwhile, tries another. */
async function startServer(binDir: string, baseDir: string, dataDir: string, options: LocalPostgresOptions): Promise<number> {
  const attempts = options.port === undefined ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await findFreePort(HOST));
    try {
      await runPostgresBinary(binDir, 'pg_ctl', [
        '-D', dataDir, '-l', join(baseDir, 'postgres.log'), '-w', '-t', '60',
        '-o', serverFlags(baseDir, port, options).join(' '), 'start',
      ]);
      return port;
    } catch (error) {
      const log = readLogTail(join(baseDir, 'postgres.log'));
      if (attempt < attempts && /could not bind|Address already in use/i.test(log)) continue;
      throw new WalauditError('PG_UNREACHABLE', `local Postgres did not start: ${describeError(error)}\n${log}`, { cause: error });
    }
  }
}

/** The port of a server already running on dataDir (line 4 of postmaster.pid), if any. */
async function runningPort(binDir: string, dataDir: string): Promise<number | undefined> {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  // pg_ctl status fails for a stale pid file, left by a crash: then the server is started normally.
  const running = await runPostgresBinary(binDir, 'pg_ctl', ['-D', dataDir, 'status']).then(() => true, () => false);
  if (!running) return undefined;
  const port = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[3] ?? '', 10);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

function serverFlags(baseDir: string, port: number, options: LocalPostgresOptions): string[] {
  // -k puts the Unix socket in our directory: /var/run/postgresql may not exist or be writable.
  const flags = ['-p', String(port), '-k', `"${baseDir}"`, '-c', `listen_addresses=${HOST}`];
  flags.push('-c', `wal_level=${options.walLevel ?? 'logical'}`);
  if (options.logicalSettings ?? true) flags.push('-c', 'max_replication_slots=20', '-c', 'max_wal_senders=20');
  if (options.durable === false) flags.push('-c', 'fsync=off', '-c', 'full_page_writes=off');
  return flags;
}

function readLogTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '';
  }
}

/** pg_ctl -w pings over the socket; this makes sure TCP answers too before we hand out the URL. */
async function waitUntilConnectable(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    // A server that goes away between the query and end() must not end the process.
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new WalauditError('PG_UNREACHABLE', `local Postgres at ${url} does not answer: ${describeError(error)}`, { cause: error, retriable: true });
      await new Promise((done) => setTimeout(done, 100));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
