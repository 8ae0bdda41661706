import type { StoredChainLink } from './hash-chain.js';
import type { LogPositionKey } from './queries/log-cursor.js';
import type { AuditEntry, ChangeOp, ColumnDef } from './change-event.types.js';
import type { Lsn } from './lsn.js';
import type { SourceIdentity } from './source-identity.js';

/** The newest stored entry of one chain (see StoredChainLink): where that chain continues. */
export interface ChainHead {
  /** Partition of the Kafka changes topic (distributed mode); absent means 0 (standalone). */
  partition?: number;
  /** The chain: retention in days of its entries. */
  chain: number;
  id: string;
  lsn: Lsn;
  seq: number;
  hash: string;
}

export interface LogQuery {
  /** `schema.table`, or a bare table name in any schema. */
  table?: string;
  op?: ChangeOp;
  /** ISO 8601; entries committed at or after it. */
  since?: string;
  /** Only entries of this transaction id. */
  xid?: number;
  limit: number;
}

/** Entries encoded for the store's insert format (opaque outside the store). */
export interface PreparedEntries {
  readonly entries: number;
}

/** Encodes entries for one insert as they come; `bodies` as in insertEntries. */
export interface EntryBatch {
  add(entry: AuditEntry, body: string): void;
  finish(): PreparedEntries;
}

/**
 * Where audit entries live (ClickHouse: embedded chDB or a server). Every method maps backend
 * failures to WalauditError (STORE_UNREACHABLE is retriable).
 */
export interface AuditStore {
  /** Applies the versioned DDL in schemas/clickhouse/ that is not applied yet. Idempotent. */
  migrate(): Promise<void>;
  /** Stores entries; `bodies[i]` is the canonical encoding of `entries[i]`. Durable when it resolves. */
  insertEntries(entries: readonly AuditEntry[], bodies: readonly string[]): Promise<void>;
  /**
   * insertEntries in two steps: the encoding (CPU work, synchronous), entry by entry, now; the
   * insert later (insertPrepared). The writer encodes the next batch while the previous one is
   * being inserted.
   */
  startBatch(): EntryBatch;
  /** Stores what an EntryBatch encoded; durable when it resolves. May be retried with the same value. */
  insertPrepared(prepared: PreparedEntries): Promise<void>;
  /**
   * The head of every chain; per partition, the newest of its heads is where a replay stops being
   * a duplicate.
   */
  chainHeads(): Promise<ChainHead[]>;
  /** The column list of the newest entry of each `schema.table`. */
  knownShapes(): Promise<Map<string, ColumnDef[]>>;
  /** Newest first. */
  queryLog(query: LogQuery): Promise<AuditEntry[]>;
  /**
   * Every entry of every chain in log order, streamed; from a position on (inclusive) when given
   * (a report checks the chains from its oldest entry, not from the log's start).
   */
  readChain(from?: LogPositionKey): AsyncIterable<StoredChainLink>;
  countEntries(): Promise<number>;
  /** The source the store was first written from, or null for a store no pipeline has used yet. */
  sourceIdentity(): Promise<SourceIdentity | null>;
  /** Records the store's source; only the first record counts. */
  recordSourceIdentity(identity: SourceIdentity): Promise<void>;
  close(): Promise<void>;
}
