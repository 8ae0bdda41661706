import type { ApiRole } from '../api-token-store.types.js';

/**
 * What a manager changed at run time: stop auditing a table (`exclude`), audit it as critical
 * (`watch`), take either back (`undo-exclude`, `undo-watch`), or keep its entries another number
 * of days (`retention-set`, taken back by `retention-unset`).
 */
export type RuleChangeAction = 'exclude' | 'watch' | 'undo-exclude' | 'undo-watch' | 'retention-set' | 'retention-unset';

export const RULE_CHANGE_ACTIONS: readonly RuleChangeAction[] = ['exclude', 'watch', 'undo-exclude', 'undo-watch', 'retention-set', 'retention-unset'];

/** One change, as kept in the history: the current overrides are the history replayed in order. */
export interface RuleChange {
  /** 16 hex digits; ties the history row to the `walaudit.action` entry that recorded it. */
  id: string;
  action: RuleChangeAction;
  /** `schema.table`, exactly one table (no pattern). */
  table: string;
  /** retention-set only: days the table's next entries are kept (0 forever). */
  days?: number;
  by: string;
  role: ApiRole;
  /** ISO 8601 UTC. */
  at: string;
  /** The entry the manager pointed at, when the table was named through one. */
  entryId?: string;
}

/** What run-time changes say of one table now; a table without any is not listed. */
export interface TableOverride {
  table: string;
  mode?: 'exclude' | 'watch';
  retentionDays?: number;
}

/** Where the history of run-time rule changes is kept, shared by every process on the store. */
export interface RuleChangeStore {
  record(change: RuleChange): Promise<void>;
  /** Every change, oldest first. */
  history(): Promise<RuleChange[]>;
  /** `schema.table` of every table with row changes in the log, sorted. */
  tablesInLog(): Promise<string[]>;
}
