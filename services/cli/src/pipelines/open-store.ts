import { resolve } from 'node:path';
import type { StoreBundle, WalauditConfig } from '@walaudit/core';
import { openClickHouseStores } from '@walaudit/clickhouse';

/** The configured store, migrated: a ClickHouse server when `store.url` is set, else chDB. */
export async function openStore(config: WalauditConfig): Promise<StoreBundle> {
  const { url, dataDir, database, username, password } = config.store;
  return openClickHouseStores({ url, dataDir: resolve(dataDir), database, username, password });
}
