import { parseLsn, WalauditError, type AuditEntry, type ChangeEvent } from '@walaudit/core';

/** The inserted columns of audit_log, in field order; the others are derived from `event` by ClickHouse. */
export const INSERTED_COLUMNS = ['id', 'lsn', 'seq', 'event', 'prev_hash', 'hash', 'retention_days', 'critical', 'chain_partition'] as const;

/** What queryLog selects to rebuild an entry. */
export interface StoredEntryRow {
  id: string;
  event: string;
  prev_hash: string;
  hash: string;
  retention_days: number | string;
  critical: boolean | number;
  /** Absent in rows selected without it. */
  chain_partition?: number | string;
}

/** retention_days is UInt16: anything longer (179 years) is as good as forever, so it is capped. */
const MAX_RETENTION_DAYS = 65_535;

/**
 * TabSeparated reads a backslash as an escape and a tab or newline as the end of a field or row:
 * those are written escaped (\r too, so that no reader setting can take it for a line end). The
 * reader turns each escape back into the one character, so a field is stored byte for byte.
 */
const TSV_SPECIAL = /[\\\t\n\r]/;
const TSV_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

export function tsvField(text: string): string {
  // Canonical JSON has no raw tab or line break (JSON escapes control characters), and most bodies
  // have no backslash either: the test is all most of them cost.
  return TSV_SPECIAL.test(text) ? text.replace(/[\\\t\n\r]/g, (c) => TSV_ESCAPES[c]!) : text;
}

/** UTF-8 takes at most 3 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units). */
const MAX_BYTES_PER_UNIT = 3;
/** Room for everything in a row but the body: id, lsn, seq, two hashes, retention, flag, tabs. */
const ROW_OVERHEAD_BYTES = 256;
const MIN_CAPACITY = 64 * 1024;

/**
 * Rows of INSERTED_COLUMNS as TabSeparated bytes, written straight into one Buffer as each entry
 * is added. Cheaper than JSONEachRow both to write (a body is not JSON-escaped a second time:
 * every `"` in it would be) and for ClickHouse to read; cheaper than building the batch as one JS
 * string (about 10 MB per 10,000 events, flattened and then encoded once more); and a body is
 * garbage as soon as it is written, instead of living until the whole batch is encoded.
 */
export class TsvRowWriter {
  private out: Buffer;
  private length = 0;
  private rows = 0;
  // The entries of a transaction share its LSN: it is converted once per run, not once per row.
  private lsnText = '';
  private lsnDecimal = '';

  /**
   * `expectedBytes`: a guess of the batch's size (the previous batch's). The last rows need room
   * for their worst case (3 bytes per unit), so the guess gets headroom: without it, a batch as big
   * as the last one doubled its buffer for its last rows and kept twice the memory until inserted.
   */
  constructor(expectedBytes = 0) {
    this.out = Buffer.allocUnsafe(Math.max(MIN_CAPACITY, Math.ceil(expectedBytes * 1.125) + MIN_CAPACITY));
  }

  add(entry: AuditEntry, body: string): void {
    const escaped = tsvField(body);
    // Sized for ASCII bodies (the usual case); a body with wider characters grows the buffer.
    const worstCase = this.length + escaped.length * MAX_BYTES_PER_UNIT + ROW_OVERHEAD_BYTES;
    if (worstCase > this.out.length) {
      const grown = Buffer.allocUnsafe(Math.max(worstCase, Math.ceil(this.out.length * 1.5)));
      this.out.copy(grown, 0, 0, this.length);
      this.out = grown;
    }
    if (entry.tx.lsn !== this.lsnText) {
      this.lsnText = entry.tx.lsn;
      this.lsnDecimal = parseLsn(this.lsnText).toString(); // UInt64: a JS number would lose precision
    }
    const retention = Math.min(Math.max(0, Math.trunc(entry.retentionDays)), MAX_RETENTION_DAYS);
    const out = this.out;
    let length = this.length;
    length += out.write(`${tsvField(entry.id)}\t${this.lsnDecimal}\t${entry.tx.seq}\t`, length, 'utf8');
    // The body is stored exactly as hashed: re-encoding it could change a byte and break the chain.
    length += out.write(escaped, length, 'utf8');
    length += out.write(`\t${tsvField(entry.prevHash)}\t${tsvField(entry.hash)}\t${retention}\t${entry.critical ? 'true' : 'false'}\t${entry.partition ?? 0}\n`, length, 'utf8');
    this.length = length;
    this.rows++;
  }

  get entries(): number {
    return this.rows;
  }

  /** The rows written so far (a view of the buffer: add nothing after). */
  finish(): Buffer {
    return this.out.subarray(0, this.length);
  }
}

/** All of `entries` at once (see TsvRowWriter); `bodies[i]` is the encoding of `entries[i]`. */
export function toTsvBuffer(entries: readonly AuditEntry[], bodies: readonly string[]): Buffer {
  if (entries.length !== bodies.length) {
    throw new WalauditError('INTERNAL', `insertEntries got ${entries.length} entries but ${bodies.length} bodies`);
  }
  let expected = 0;
  for (const body of bodies) expected += body.length + ROW_OVERHEAD_BYTES;
  const writer = new TsvRowWriter(expected);
  for (let i = 0; i < entries.length; i++) writer.add(entries[i]!, bodies[i]!);
  return writer.finish();
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
  const entry: AuditEntry = {
    ...event,
    prevHash: row.prev_hash,
    hash: row.hash,
    retentionDays: Number(row.retention_days),
    critical: row.critical === true || row.critical === 1,
  };
  // Only in distributed mode: a standalone entry looks as it always did.
  const partition = Number(row.chain_partition ?? 0);
  if (partition !== 0) entry.partition = partition;
  return entry;
}
