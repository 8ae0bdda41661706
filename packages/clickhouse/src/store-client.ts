import { Readable } from 'node:stream';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { WalauditError } from '@walaudit/core';
import { acquireEmbeddedClient } from './chdb-connection.js';

export interface ClickHouseStoreOptions {
  /** URL of a ClickHouse server; unset: the embedded engine (chDB) under `dataDir`. */
  url?: string;
  /** Directory of the embedded store; ignored with `url`. */
  dataDir: string;
  /** Database that holds the audit tables; created by migrate(). */
  database: string;
  username?: string;
  password?: string;
}

/** A client over the server or the embedded engine; the same SQL runs on both. */
export interface StoreClient {
  client: ClickHouseClient;
  /** Names the store in error messages, without credentials. */
  target: string;
  /** Awaited before each call: the embedded session's settings. */
  ready: Promise<void>;
  /**
   * Inserts TabSeparated rows (audit-rows.ts) into `database`.`table`, synchronously: resolved means
   * they are in a part on disk. Both names are bare identifiers ([A-Za-z0-9_]).
   */
  insertTsv(database: string, table: string, columns: readonly [string, ...string[]], rows: Buffer): Promise<void>;
  close(): Promise<void>;
}

export function openStoreClient(options: ClickHouseStoreOptions): StoreClient {
  if (options.url === undefined || options.url === '') {
    const handle = acquireEmbeddedClient(options.dataDir);
    const target = `the embedded store at ${handle.dataDir}`;
    // The session already has async_insert off (see chdb-connection.ts).
    return {
      client: handle.client,
      target,
      ready: handle.ready,
      insertTsv: (database, table, columns, rows) => handle.insertTsv(`${database}.${table}`, columns, rows),
      close: () => handle.release(),
    };
  }
  const target = `ClickHouse at ${displayUrl(options.url)}`;
  const client = createClient({
    url: options.url,
    username: options.username,
    password: options.password,
    application: 'walaudit',
    // Failures reach the caller as WalauditErrors; the client's own logging would say it twice.
    log: { level: ClickHouseLogLevel.OFF },
  });
  const insertTsv = async (database: string, table: string, columns: readonly [string, ...string[]], rows: Buffer) => {
    if (rows.length === 0) return;
    await client.insert({
      table: `\`${database}\`.${table}`,
      columns: [...columns],
      format: 'TabSeparated',
      // A raw format is sent as it is; the client wants a byte stream (not object mode) for it.
      values: Readable.from([rows], { objectMode: false }),
      // Per insert, not per client: a read-only account may not change settings on its queries.
      clickhouse_settings: { async_insert: 0 },
    });
  };
  return { client, target, ready: Promise.resolve(), insertTsv, close: () => client.close() };
}

/** The URL without user info, so a password in it never reaches a log. */
function displayUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new WalauditError('CONFIG_INVALID', `store.url "${url}" is not a URL (expected e.g. http://localhost:8123)`);
  }
  return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
}
