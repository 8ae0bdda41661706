import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
// chdb is CommonJS: its default export is module.exports, which Node always provides to ESM.
import chdbConnection from 'chdb/connection';
import { WalauditError } from '@walaudit/core';

/**
 * The embedded engine (chDB). libchdb binds one data directory per process, and a data directory
 * to one process (ClickHouse flocks `<dir>/status`). So the process keeps a single client over a
 * single connection, shared by every store opened on that directory and closed with the last one.
 */
interface EmbeddedEngine {
  dataDir: string;
  client: ClickHouseClient;
  connection: ChdbConnection;
  ready: Promise<void>;
  users: number;
}

type ChdbConnection = ReturnType<typeof chdbConnection.createChdbConnection>;

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

let engine: EmbeddedEngine | null = null;

export interface EmbeddedHandle {
  client: ClickHouseClient;
  dataDir: string;
  /** Settles when the session settings are in place; rejects if they could not be set. */
  ready: Promise<void>;
  /** Inserts TabSeparated rows into `database.table` (bare identifiers); resolves when they are in a part. */
  insertTsv(table: string, columns: readonly [string, ...string[]], rows: Buffer): Promise<void>;
  /** Gives the handle back; the engine closes when no store uses it. Idempotent. */
  release(): Promise<void>;
}

export function acquireEmbeddedClient(dataDir: string): EmbeddedHandle {
  const dir = resolve(dataDir);
  if (engine && engine.dataDir !== dir) {
    throw new WalauditError(
      'STORE_LOCKED',
      `this process already uses the embedded store at ${engine.dataDir}; chDB allows one data directory per process, so ${dir} cannot be opened too`,
    );
  }
  const current = engine ?? (engine = openEngine(dir));
  current.users++;
  let released = false;
  return {
    client: current.client,
    dataDir: dir,
    ready: current.ready,
    insertTsv: (table, columns, rows) => insertTsv(current.connection, table, columns, rows),
    async release() {
      if (released) return;
      released = true;
      if (--current.users > 0 || engine !== current) return;
      engine = null;
      await current.client.close();
    },
  };
}

function openEngine(dir: string): EmbeddedEngine {
  const { client, connection } = openClient(dir);
  // chDB enables async_insert: each insert would wait for a shared buffer's flush (up to its busy
  // timeout) instead of writing its own part. A SET lasts for the session and costs nothing per
  // insert; passed with each insert it becomes a `SET ...; INSERT ...` prefix that made 10k-row
  // inserts about 25% slower.
  const ready = client.command({ query: 'SET async_insert = 0' }).then(() => undefined);
  ready.catch(() => {}); // observed by the store's first call
  return { dataDir: dir, client, connection, ready, users: 0 };
}

/**
 * chDB's raw insert, not client.insert: the client serialises each row object to JSON on the main
 * thread (escaping every body a second time), and its chDB connection then joins the whole batch to
 * the statement in one more JS string. Here the batch goes to the engine as one Buffer, parsed in
 * chDB's own threads: about 50 ms of main thread per 10,000 ~800-byte events instead of about 100.
 * It runs on the session's connection, so SET async_insert = 0 holds for it too. The raw insert
 * takes text formats only (no RowBinary); TabSeparated is the cheapest of them to write.
 */
async function insertTsv(connection: ChdbConnection, table: string, columns: readonly [string, ...string[]], rows: Buffer): Promise<void> {
  if (rows.length === 0) return;
  await connection.chdb.rawInsert({ table, columns, values: rows, format: 'TabSeparated' });
}

function openClient(dir: string): { client: ClickHouseClient; connection: ChdbConnection } {
  let connection: ChdbConnection;
  try {
    mkdirSync(dir, { recursive: true });
    connection = chdbConnection.createChdbConnection({ path: dir });
  } catch (error) {
    throw openFailure(dir, error);
  }
  // The cast bridges two copies of one interface: chdb types it against @clickhouse/client-common
  // 1.23.0, the client against the copy it vendors (1.23.1), whose settings type differs slightly.
  const client = createClient({ connection: connection as unknown as ClientConnection, log: { level: ClickHouseLogLevel.OFF } });
  return { client, connection };
}

/**
 * chDB reports a held lock only as "Failed to create connection for path ..." (the engine prints
 * "Cannot lock file <dir>/status" to stderr), so the holder is found from the status file, which
 * ClickHouse fills with its pid while it runs and removes on a clean exit.
 */
function openFailure(dir: string, error: unknown): WalauditError {
  const message = error instanceof Error ? error.message : String(error);
  const holder = lockHolder(dir);
  if (holder !== null || /cannot lock file/i.test(message)) {
    const who = holder !== null ? `another walaudit process (pid ${holder})` : 'another walaudit process';
    return new WalauditError(
      'STORE_LOCKED',
      `${who} is using the data directory ${dir}: the embedded store can be opened by one process at a time. ` +
        '`walaudit log`, `verify` and `status` ask the running process over HTTP instead; stop it to open the directory here.',
      { cause: error },
    );
  }
  return new WalauditError('STORE_QUERY_FAILED', `cannot open the embedded store at ${dir}: ${message}`, { cause: error });
}

function lockHolder(dir: string): number | null {
  let text: string;
  try {
    text = readFileSync(join(dir, 'status'), 'utf8');
  } catch {
    return null;
  }
  const pid = Number(/PID:\s*(\d+)/.exec(text)?.[1]);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    // EPERM: alive but owned by another user, still the holder. ESRCH: a stale file from a crash.
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}
