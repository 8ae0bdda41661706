import {
  comparePositions,
  parseLsn,
  WalauditError,
  type AuditEntry,
  type AuditStore,
  type ChainHead,
  type ChangeEvent,
  type ColumnDef,
  type EntryBatch,
  type LogPosition,
  type LogQuery,
  type PreparedEntries,
  type SourceIdentity,
  type StoredChainLink,
} from '@walaudit/core';

/**
 * One stored row, as ClickHouse's audit_log holds it: the canonical body the hash covers, the
 * chain fields beside it. Entries are read back by parsing the body, as the real store does, so a
 * field the encoding drops is dropped here too.
 */
export interface StoredRow {
  id: string;
  position: LogPosition;
  body: string;
  prevHash: string;
  hash: string;
  retentionDays: number;
  critical: boolean;
  partition: number;
}

/** Entries an EntryBatch of this store encoded: only this store's insertPrepared accepts them. */
interface MemoryPrepared extends PreparedEntries {
  readonly rows: readonly StoredRow[];
  readonly store: MemoryAuditStore;
}

/**
 * An AuditStore in memory, for unit tests of the processors. It behaves as the ClickHouse store
 * does where a processor can tell: an insert is durable when it resolves; a replayed insert adds a
 * copy that every read but readChain hides (as LIMIT 1 BY / FINAL do before the parts merge); reads
 * are in log order (commit LSN, then seq); chain heads are per partition and retention period.
 * Failures can be scripted for the next inserts, and each insert can be held until released.
 */
export class MemoryAuditStore implements AuditStore {
  /** Every row inserted, in insert order, copies included. */
  readonly rows: StoredRow[] = [];
  /** Calls of insertPrepared / insertEntries, failed ones included. */
  insertCalls = 0;
  migrated = false;
  closed = false;
  private source: SourceIdentity | null = null;
  private readonly failures: unknown[] = [];
  private readonly held: Array<() => void> = [];
  private holding = false;

  /** The next `times` inserts reject with `error` and store nothing. */
  failInserts(error: unknown, times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push(error);
  }

  /** Inserts wait, each until release() or resume(): a store busy with a slow insert. */
  hold(): void {
    this.holding = true;
  }

  /** Lets the oldest held insert go on. */
  release(): void {
    const next = this.held.shift();
    if (!next) throw new Error('no insert is held');
    next();
  }

  /** Stops holding: the inserts held now and every later one go through. */
  resume(): void {
    this.holding = false;
    while (this.held.length > 0) this.release();
  }

  get heldInserts(): number {
    return this.held.length;
  }

  /** The stored entries without copies, in log order. */
  entries(): AuditEntry[] {
    return this.distinctRows().map(toEntry);
  }

  async migrate(): Promise<void> {
    this.open();
    this.migrated = true;
  }

  async insertEntries(entries: readonly AuditEntry[], bodies: readonly string[]): Promise<void> {
    const batch = this.startBatch();
    entries.forEach((entry, i) => batch.add(entry, bodies[i]!));
    await this.insertPrepared(batch.finish());
  }

  startBatch(): EntryBatch {
    const rows: StoredRow[] = [];
    return {
      add: (entry, body) => rows.push(toRow(entry, body)),
      finish: (): MemoryPrepared => ({ entries: rows.length, rows, store: this }),
    };
  }

  async insertPrepared(prepared: PreparedEntries): Promise<void> {
    this.open();
    const own = prepared as MemoryPrepared;
    if (own.store !== this) throw new WalauditError('INTERNAL', 'insertPrepared got entries another store prepared');
    this.insertCalls++;
    if (this.holding) await new Promise<void>((resolve) => this.held.push(resolve));
    if (this.failures.length > 0) throw this.failures.shift();
    this.rows.push(...own.rows);
  }

  async chainHeads(): Promise<ChainHead[]> {
    this.open();
    const heads = new Map<string, StoredRow>();
    for (const row of this.rows) {
      const key = `${row.partition}/${row.retentionDays}`;
      const head = heads.get(key);
      if (!head || comparePositions(row.position, head.position) > 0) heads.set(key, row);
    }
    return [...heads.values()].map((row) => {
      const head = { chain: row.retentionDays, id: row.id, lsn: row.position.lsn, seq: row.position.seq, hash: row.hash };
      return row.partition === 0 ? head : { partition: row.partition, ...head };
    });
  }

  async knownShapes(): Promise<Map<string, ColumnDef[]>> {
    this.open();
    const shapes = new Map<string, ColumnDef[]>();
    // Action entries carry no columns: they say nothing about a table's shape.
    for (const entry of this.entries()) if (entry.op !== 'action') shapes.set(`${entry.schema}.${entry.table}`, entry.columns);
    return shapes;
  }

  async queryLog(query: LogQuery): Promise<AuditEntry[]> {
    this.open();
    const since = query.since ? Date.parse(query.since) : null;
    return this.entries()
      .reverse()
      .filter((entry) => {
        if (query.table && `${entry.schema}.${entry.table}` !== query.table && entry.table !== query.table) return false;
        if (query.op !== undefined && entry.op !== query.op) return false;
        if (since !== null && Date.parse(entry.tx.commitTime) < since) return false;
        return query.xid === undefined || entry.tx.xid === query.xid;
      })
      .slice(0, query.limit);
  }

  async *readChain(from?: { lsn: bigint; seq: number }): AsyncIterable<StoredChainLink> {
    this.open();
    // Copies too, next to each other: verify is the one reader that must see them.
    const ordered = [...this.rows].filter((row) => !from || comparePositions(row.position, from) >= 0).sort((a, b) => comparePositions(a.position, b.position));
    for (const row of ordered) {
      const link: StoredChainLink = { chain: row.retentionDays, id: row.id, prevHash: row.prevHash, hash: row.hash, body: row.body };
      if (row.partition !== 0) link.partition = row.partition;
      yield link;
    }
  }

  async countEntries(): Promise<number> {
    this.open();
    return this.distinctRows().length;
  }

  async sourceIdentity(): Promise<SourceIdentity | null> {
    this.open();
    return this.source;
  }

  async recordSourceIdentity(identity: SourceIdentity): Promise<void> {
    this.open();
    this.source ??= { ...identity };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** One row per position (the first stored), in log order. */
  private distinctRows(): StoredRow[] {
    const seen = new Set<string>();
    const distinct: StoredRow[] = [];
    for (const row of this.rows) {
      const key = `${row.position.lsn}/${row.position.seq}`;
      if (seen.has(key)) continue;
      seen.add(key);
      distinct.push(row);
    }
    return distinct.sort((a, b) => comparePositions(a.position, b.position));
  }

  private open(): void {
    if (this.closed) throw new WalauditError('INTERNAL', 'the store (memory) is closed');
  }
}

function toRow(entry: AuditEntry, body: string): StoredRow {
  return {
    id: entry.id,
    position: { lsn: parseLsn(entry.tx.lsn), seq: entry.tx.seq },
    body,
    prevHash: entry.prevHash,
    hash: entry.hash,
    retentionDays: entry.retentionDays,
    critical: entry.critical,
    partition: entry.partition ?? 0,
  };
}

/** The entry as the store gives it back: the body parsed, the chain fields added. */
export function toEntry(row: StoredRow): AuditEntry {
  const event = JSON.parse(row.body) as ChangeEvent;
  const entry: AuditEntry = { ...event, prevHash: row.prevHash, hash: row.hash, retentionDays: row.retentionDays, critical: row.critical };
  if (row.partition !== 0) entry.partition = row.partition;
  return entry;
}
