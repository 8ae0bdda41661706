import { resolve } from 'node:path';
import type { StoreBundle } from '@walaudit/core';
import { createClickHouseAlertStore } from './alert-store.js';
import { ClickHouseAuditQueries } from './audit-queries.js';
import { createClickHouseApiTokenStore } from './api-token-store.js';
import { createClickHouseRuleChangeStore } from './rule-change-store.js';
import { ClickHouseCascadeLinks } from './cascade-link-store.js';
import { createClickHouseStore, type ClickHouseStore } from './clickhouse-store.js';
import type { ClickHouseStoreOptions } from './store-client.js';

/**
 * The store bundle on ClickHouse, its parts typed as what they are: the CLI sees a StoreBundle,
 * tests and analysts' scripts may also run their own SQL on `audit`.
 */
export interface ClickHouseStores extends StoreBundle {
  readonly audit: ClickHouseStore;
  readonly cascadeLinks: ClickHouseCascadeLinks;
  readonly queries: ClickHouseAuditQueries;
}

export interface ClickHouseBundleOptions {
  /** Entries per page of a root's cascade (see ClickHouseCascadeLinks); tests make it small. */
  cascadePageRows?: number;
}

/** How people see the store: `ClickHouse host:port/database`, or the embedded data directory. */
export function clickHouseStoreLabel(options: ClickHouseStoreOptions): string {
  return options.url ? `ClickHouse ${new URL(options.url).host}/${options.database}` : `embedded ClickHouse (chDB) in ${resolve(options.dataDir)}`;
}

/** The bundle over a store already opened (and migrated): alerts, links and API tokens share its connection. */
export function clickHouseStoreBundle(audit: ClickHouseStore, label: string, options: ClickHouseBundleOptions = {}): ClickHouseStores {
  const cascadeLinks = new ClickHouseCascadeLinks(audit, { cascadePageRows: options.cascadePageRows });
  return {
    audit,
    alerts: createClickHouseAlertStore(audit),
    cascadeLinks,
    queries: new ClickHouseAuditQueries(audit, cascadeLinks),
    tokens: createClickHouseApiTokenStore(audit),
    ruleChanges: createClickHouseRuleChangeStore(audit),
    label,
    close: () => audit.close(),
  };
}

/**
 * Opens and migrates the store (a ClickHouse server when `url` is set, else chDB under `dataDir`)
 * and bundles its parts. A failed migration closes what was opened, so a caller that retries does
 * not pile up connections.
 */
export async function openClickHouseStores(options: ClickHouseStoreOptions & ClickHouseBundleOptions): Promise<ClickHouseStores> {
  // Opened first: it names a bad URL or database name as a configuration error the label would not.
  const audit = createClickHouseStore(options);
  const label = clickHouseStoreLabel(options);
  try {
    await audit.migrate();
  } catch (error) {
    await audit.close().catch(() => undefined);
    throw error;
  }
  return clickHouseStoreBundle(audit, label, options);
}
