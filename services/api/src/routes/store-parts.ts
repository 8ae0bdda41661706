import { WalauditError, type AuditQueries, type AuditStore } from '@walaudit/core';
import type { ApiServerDeps } from '../api-deps.js';

const NO_STORE = 'this process runs only the reader (walaudit start --services reader) and holds no store: ask a writer, or use --clickhouse-url';

/** The audit store of a process that holds one; a reader-only process says where to ask instead. */
export function storeOf(deps: ApiServerDeps): AuditStore {
  if (!deps.store) throw new WalauditError('STORE_NOT_FOUND', NO_STORE);
  return deps.store;
}

/** The store's searches, histories, stats and exports; absent exactly where the store is. */
export function queriesOf(deps: ApiServerDeps): AuditQueries {
  if (!deps.queries) throw new WalauditError('STORE_NOT_FOUND', NO_STORE);
  return deps.queries;
}
