import { resolve } from 'node:path';
import { describeError, retryWhileRetriable, type StoreBundle, type WalauditConfig } from '@walaudit/core';
import { openClickHouseStores } from '@walaudit/clickhouse';
import type { Logger } from '../logger.js';

/** The configured store, migrated: a ClickHouse server when `store.url` is set, else chDB. */
export async function openStore(config: WalauditConfig): Promise<StoreBundle> {
  const { url, dataDir, database, username, password } = config.store;
  return openClickHouseStores({ url, dataDir: resolve(dataDir), database, username, password });
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
