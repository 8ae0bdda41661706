import type { Alert, AlertKind } from './alert.types.js';
import type { AlertActor } from './alert.types.js';
import type { RowImage } from '../change-event.types.js';

export interface AlertQuery {
  /** Only alerts not acknowledged. */
  open?: boolean;
  /** Only these ids. */
  ids?: readonly string[];
  /** Newest raised first; at most this many. */
  limit: number;
}

/** Deletions of one actor on one table in one transaction, read back from the audit log. */
export interface StoredDeletion {
  actor: AlertActor;
  table: string;
  schema: string;
  tableName: string;
  op: 'delete' | 'truncate';
  xid: number;
  commitTime: string;
  rows: number;
  firstEntryId: string;
  lastEntryId: string;
  critical: boolean;
  /** Primary keys of the first 20 rows. */
  keys: RowImage[];
}

/**
 * Where alerts live (ClickHouse, beside the audit log). Versions are appended, never changed:
 * the newest version of an alert is its state; an acknowledgement is a version too.
 */
export interface AlertStore {
  saveAlerts(alerts: readonly Alert[]): Promise<void>;
  listAlerts(query: AlertQuery): Promise<Alert[]>;
  /** Alerts whose last deletion committed at or after `since` (ISO): the windows still open. */
  recentAlerts(since: string): Promise<Alert[]>;
  /** Deletions and truncates committed at or after `since`, in log order: to rebuild windows after a restart. */
  recentDeletions(since: string): Promise<StoredDeletion[]>;
  /** Commit time of the newest stored entry, or null for an empty log. */
  newestCommitTime(): Promise<string | null>;
  /** Alerts not acknowledged, by kind (a kind with none is absent). */
  openAlertCounts(): Promise<Partial<Record<AlertKind, number>>>;
}
