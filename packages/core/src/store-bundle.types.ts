import type { ApiTokenStore } from './api-token-store.types.js';
import type { AlertStore } from './alerts/alert-store.types.js';
import type { AuditStore } from './audit-store.types.js';
import type { CascadeStore } from './cascade/cascade-store.types.js';
import type { AuditQueries } from './queries/audit-queries.types.js';
import type { RuleChangeStore } from './rules/rule-change.types.js';

/**
 * Everything the configured store holds, opened and migrated together: the audit log, the alerts,
 * the cascade links and the API tokens all live in one database, so callers take the part they need from here
 * instead of asking which backend the audit store is.
 */
export interface StoreBundle {
  readonly audit: AuditStore;
  readonly alerts: AlertStore;
  readonly cascadeLinks: CascadeStore;
  /** Searches, record histories, transactions, stats and exports over the audit log. */
  readonly queries: AuditQueries;
  /** The HTTP API's tokens (hashes only), shared by every API process on this store. */
  readonly tokens: ApiTokenStore;
  /** Audit rules changed at run time through the API: the history every restart replays. */
  readonly ruleChanges: RuleChangeStore;
  /** Names the store for people (logs, `walaudit status`): a server's host and database, or the embedded directory. */
  readonly label: string;
  /** Closes the connection every part shares; call it instead of `audit.close()`. Idempotent. */
  close(): Promise<void>;
}
