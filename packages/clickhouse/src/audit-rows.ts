import { parseLsn, WalauditError, type AuditEntry, type ChangeEvent } from '@walaudit/core';

/** The inserted columns of audit_log; the MATERIALIZED ones are derived from `event` by ClickHouse. */
export interface AuditRow {
  id: string;
  /** Decimal: a UInt64 LSN does not fit a JS number. */
  lsn: string;
  seq: number;
  event: string;
  prev_hash: string;
  hash: string;
  retention_days: number;
  critical: boolean;
}

/** What queryLog selects to rebuild an entry. */
export interface StoredEntryRow {
  id: string;
  event: string;
  prev_hash: string;
  hash: string;
  retention_days: number | string;
  critical: boolean | number;
}

/** retention_days is UInt16: anything longer (179 years) is as good as forever, so it is capped. */
const MAX_RETENTION_DAYS = 65_535;

export function toAuditRows(entries: readonly AuditEntry[], bodies: readonly string[]): AuditRow[] {
  if (entries.length !== bodies.length) {
    throw new WalauditError('INTERNAL', `insertEntries got ${entries.length} entries but ${bodies.length} bodies`);
  }
  return entries.map((entry, i) => ({
    id: entry.id,
    lsn: parseLsn(entry.tx.lsn).toString(),
    seq: entry.tx.seq,
    // Stored exactly as hashed: re-encoding here could change a byte and break the chain.
    event: bodies[i]!,
    prev_hash: entry.prevHash,
    hash: entry.hash,
    retention_days: Math.min(Math.max(0, Math.trunc(entry.retentionDays)), MAX_RETENTION_DAYS),
    critical: entry.critical,
  }));
}

/** The entry as it was inserted: the hashed body plus the chain and store fields. */
export function toAuditEntry(row: StoredEntryRow): AuditEntry {
  let event: ChangeEvent;
  try {
    event = JSON.parse(row.event) as ChangeEvent;
  } catch {
    // Only an edit outside walaudit stores a body that is not JSON.
    throw new WalauditError('CHAIN_BROKEN', `entry ${row.id} holds an event that is not JSON: run \`walaudit verify\``);
  }
  return {
    ...event,
    prevHash: row.prev_hash,
    hash: row.hash,
    retentionDays: Number(row.retention_days),
    critical: row.critical === true || row.critical === 1,
  };
}
