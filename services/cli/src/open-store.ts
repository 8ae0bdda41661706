import { resolve } from 'node:path';
import type { AuditStore, WalauditConfig } from '@walaudit/core';
import { createClickHouseStore } from '@walaudit/clickhouse';

export interface OpenedStore {
  store: AuditStore;
  label: string;
}

/** The configured store, migrated: a ClickHouse server when `store.url` is set, else chDB. */
export async function openStore(config: WalauditConfig): Promise<OpenedStore> {
  const { url, dataDir, database, username, password } = config.store;
  const store = await createClickHouseStore({ url, dataDir: resolve(dataDir), database, username, password });
  await store.migrate();
  const label = url ? `ClickHouse ${new URL(url).host}/${database}` : `embedded ClickHouse (chDB) in ${resolve(dataDir)}`;
  return { store, label };
}
