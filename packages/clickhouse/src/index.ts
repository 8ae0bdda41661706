export { createClickHouseStore, ClickHouseStore } from './clickhouse-store.js';
export type { ClickHouseStoreOptions } from './store-client.js';
export { applyMigrations, loadMigrations, MIGRATIONS_DIR, type Migration } from './migrations.js';
export { toStoreError } from './store-errors.js';
export { createClickHouseAlertStore } from './alert-store.js';
export { ClickHouseCascadeLinks } from './cascade-link-store.js';
export { clickHouseStoreBundle, clickHouseStoreLabel, openClickHouseStores, type ClickHouseBundleOptions, type ClickHouseStores } from './store-bundle.js';
export { storeExists } from './store-exists.js';
export { ClickHouseAuditQueries, CHILDREN_SHOWN, EXPORT_PAGE_ROWS } from './audit-queries.js';
