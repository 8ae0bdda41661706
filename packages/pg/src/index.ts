// Local Postgres, errors, setup/teardown, audit context, demo schema.
export * from './postgres-binaries.js';
export * from './local-postgres.js';
export * from './free-port.js';
export * from './pg-errors.js';
export * from './pg-connect.js';
export * from './sql-names.js';
export * from './setup-plan.js';
export * from './inspect-database.js';
export * from './setup.js';
export * from './teardown.js';
export * from './setup-record.js';
export * from './audit-context.js';
export * from './demo-schema.js';
// Replication: the change source, the catalog lookups it needs, the slot monitor.
export * from './catalog.js';
export * from './replication-source.js';
export * from './slot-monitor.js';
export * from './slot-health.js';
export * from './source-identity.js';
export * from './partition-readiness.js';
export * from './partition-events.js';
// Cascade links and restores: foreign keys from the catalog.
export * from './foreign-keys.js';
export * from './connection-string.js';
