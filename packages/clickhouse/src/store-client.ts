import { ClickHouseLogLevel, createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
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
  /** Sent with each insert: synchronous, so a resolved insert is in a part on disk. */
  insertSettings: ClickHouseSettings;
  close(): Promise<void>;
}

export function openStoreClient(options: ClickHouseStoreOptions): StoreClient {
  if (options.url === undefined || options.url === '') {
    const handle = acquireEmbeddedClient(options.dataDir);
    const target = `the embedded store at ${handle.dataDir}`;
    // The session already has async_insert off (see chdb-connection.ts).
    return { client: handle.client, target, ready: handle.ready, insertSettings: {}, close: () => handle.release() };
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
  // Per insert, not per client: a read-only account may not change settings on its queries.
  return { client, target, ready: Promise.resolve(), insertSettings: { async_insert: 0 }, close: () => client.close() };
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
