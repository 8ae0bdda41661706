import type { RowImage } from '../change-event.types.js';

/**
 * What an on-call engineer receives: who deleted what, when, and where to find it in the audit
 * trail. Stored in ClickHouse (schemas/clickhouse/0002_alerts.sql) and sent to the notifiers.
 */
/**
 * `slot-lost`: Postgres invalidated the replication slot, so changes went unaudited; it carries
 * `slotLoss` and none of the deletion fields (no actor, tables or entries).
 */
/**
 * `integrity`: the store contradicts a signed checkpoint (entries lost or rewritten behind
 * walaudit's back), so walaudit refused to append; it carries `integrity` and no deletion fields.
 */
export type AlertKind = 'bulk-delete' | 'critical-table' | 'slot-lost' | 'integrity';

/** Every kind, for counts that name each one (a kind with no open alert counts 0). */
export const ALERT_KINDS = ['bulk-delete', 'critical-table', 'slot-lost', 'integrity'] as const satisfies readonly AlertKind[];
export type AlertStatus = 'open' | 'acknowledged';

/** Who did it: the application's user when it sent one, else the database user. */
export interface AlertActor {
  /** The name alerts are grouped by: `appUser`, else `dbUser`, else `unknown`. */
  name: string;
  appUser: string | null;
  dbUser: string | null;
  ip: string | null;
  applicationName: string | null;
  /** W3C trace id of the deleting statement (its `traceparent` tag); absent or null when none. */
  traceId?: string | null;
}

export interface AlertTableCount {
  /** `schema.table` */
  table: string;
  rows: number;
  /** A TRUNCATE counted as "all rows": `rows` does not include the rows it removed. */
  allRows: boolean;
}

export interface AlertWindow {
  minutes: number;
  threshold: number;
  /** Commit time of the first deletion counted, ISO 8601 UTC. */
  start: string;
}

export interface Acknowledgement {
  by: string;
  at: string;
  note: string;
}

export interface Alert {
  /** Short and stable (`a1b2c3d4e5f6`): derived from what raised it, so a replay finds the same id. */
  id: string;
  kind: AlertKind;
  /** Grows with every update (more rows counted, acknowledgement); the store keeps every version. */
  version: number;
  status: AlertStatus;
  actor: AlertActor;
  tables: AlertTableCount[];
  /** Rows deleted in total (TRUNCATEs not included, see `allRows`). */
  rows: number;
  /** True when a TRUNCATE counted: every row of a table went. */
  allRows: boolean;
  /** The sliding window of a bulk-delete alert; null for a critical-table alert. */
  window: AlertWindow | null;
  /** The transaction of a critical-table alert; null for a bulk-delete alert. */
  xid: number | null;
  /** Transactions counted, the first 20 of them (`walaudit log --xid N`). */
  xids: number[];
  transactions: number;
  firstCommitTime: string;
  lastCommitTime: string;
  /** Audit entry ids of the first and last deletion counted (log order). */
  firstEntryId: string;
  lastEntryId: string;
  /** Critical-table alerts: primary keys of the first 20 deleted rows. */
  keys: RowImage[];
  raisedAt: string;
  updatedAt: string;
  acknowledgement: Acknowledgement | null;
  /** slot-lost alerts only: which slot, where, and the server's reason. */
  slotLoss?: SlotLossDetail;
  /** integrity alerts only: which chain, what the store contradicts, and the checkpoint file. */
  integrity?: IntegrityDetail;
}

export interface IntegrityDetail {
  /** `p0/r90`: the chain (partition, retention days). */
  chain: string;
  /** What was found, naming the missing or rewritten entries. */
  message: string;
  /** The checkpoint file the store was compared with. */
  checkpointFile: string;
}

export interface SlotLossDetail {
  slot: string;
  /** The audited database, without credentials. */
  source: string;
  walStatus: string | null;
  invalidationReason: string | null;
  /** The lost slot's confirmed position: changes after it were never audited. */
  confirmedLsn: string | null;
}

/** At most this many keys and transaction ids travel with an alert, whatever the DELETE's size. */
export const ALERT_SAMPLE_LIMIT = 20;
