import { resolve } from 'node:path';
import { describeError, retryWhileRetriable, WalauditError, type AuditStore, type StoreBundle, type WalauditConfig } from '@walaudit/core';
import { clickHouseStoreLabel, openClickHouseStores, storeExists } from '@walaudit/clickhouse';
import type { Logger } from '../logger.js';

/** The configured store, migrated: a ClickHouse server when `store.url` is set, else chDB. */
export async function openStore(config: WalauditConfig): Promise<StoreBundle> {
  const { url, dataDir, database, username, password } = config.store;
  return openClickHouseStores({ url, dataDir: resolve(dataDir), database, username, password });
}

/**
 * The store a short-lived command reads (log, verify, alerts, restore) when no `walaudit start`
 * answered: it must already exist. Opening a wrong data directory or database would create an
 * empty store and report an empty, "intact" log.
 */
export async function openExistingStore(config: WalauditConfig): Promise<StoreBundle> {
  const { url, dataDir, database, username, password } = config.store;
  const options = { url, dataDir: resolve(dataDir), database, username, password };
  if (!(await storeExists(options))) {
    throw new WalauditError(
      'STORE_NOT_FOUND',
      `no walaudit start answers on port ${config.http.port}, and there is no walaudit store in ${clickHouseStoreLabel(options)}: ` +
        `point --http-port at the running walaudit, or --data-dir${url ? ' / --clickhouse-url' : ''} at its store (nothing was created)`,
    );
  }
  return openStore(config);
}

/** Runs `work` against the existing store's audit log and closes the store after it, whatever happened. */
export async function withExistingStore<T>(config: WalauditConfig, work: (store: AuditStore) => Promise<T>): Promise<T> {
  const stores = await openExistingStore(config);
  try {
    return await work(stores.audit);
  } finally {
    await stores.close();
  }
}

/**
 * openStore for a process that starts: a store not reachable yet (a server still starting, a
 * network cut) is waited for with backoff instead of failing the start; a permanent error (bad
 * credentials, a migration that does not apply) still fails it. `meanwhile` tells the operator
 * what waits with it.
 */
export function openStoreWithRetry(config: WalauditConfig, log: Logger, meanwhile?: string): Promise<StoreBundle> {
  return retryWhileRetriable(() => openStore(config), {
    initialMs: config.pipeline.retryInitialMs,
    maxMs: config.pipeline.retryMaxMs,
    onRetry: (attempt, delayMs, error) => log.warn(`store not reachable (attempt ${attempt}), retrying in ${delayMs} ms${meanwhile ? `; ${meanwhile}` : ''}: ${describeError(error)}`),
  });
}
