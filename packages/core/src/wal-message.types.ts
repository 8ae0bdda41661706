import type { ColumnDef } from './change-event.types.js';
import type { Lsn } from './lsn.js';

/**
 * The decoded pgoutput stream as the domain sees it, independent of the replication library.
 * packages/pg turns the library's messages into these, with type names and primary keys resolved
 * from the catalog.
 */

/** A tuple from the WAL: text form per column, null for SQL NULL, undefined when not sent. */
export type WalTuple = Record<string, string | null | undefined>;

export interface RelationShape {
  oid: number;
  schema: string;
  table: string;
  columns: ColumnDef[];
  /** Primary key column names from pg_index; empty when the table has none. */
  primaryKey: string[];
  replicaIdentity: 'default' | 'nothing' | 'full' | 'index';
}

export type WalMessage =
  | { tag: 'begin'; xid: number; commitLsn: Lsn; commitTimeMicros: bigint }
  | { tag: 'commit'; commitLsn: Lsn; commitEndLsn: Lsn }
  | { tag: 'relation'; relation: RelationShape }
  | { tag: 'insert'; relationOid: number; after: WalTuple }
  | { tag: 'update'; relationOid: number; before: WalTuple | null; after: WalTuple }
  | { tag: 'delete'; relationOid: number; before: WalTuple | null }
  | { tag: 'truncate'; relationOids: number[]; cascade: boolean; restartIdentity: boolean }
  | { tag: 'message'; transactional: boolean; lsn: Lsn; prefix: string; content: string }
  | { tag: 'ignored'; what: string };

/** Logical message prefixes walaudit reads. */
export const MESSAGE_PREFIX = {
  appContext: 'walaudit',
  statementContext: 'walaudit.stmt',
  action: 'walaudit.action',
  /** A TRUNCATE of one partition, from its context trigger (see partition-truncates.ts). */
  partitionTruncate: 'walaudit.truncate',
  /** A partition attached to or detached from an audited partitioned table (see partition-changes.ts). */
  partitionChange: 'walaudit.partition',
  heartbeat: 'walaudit.heartbeat',
} as const;
