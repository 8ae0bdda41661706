import { WalauditError, type AuditEntry, type ChangeEvent, type LogPositionKey } from '@walaudit/core';
import type { ClickHouseStore } from './clickhouse-store.js';

/** An entry read back with its position in log order (the keyset of the next page). */
export interface PositionedEntry {
  entry: AuditEntry;
  position: LogPositionKey;
}

/**
 * One JSON array per row, built by ClickHouse, each line starting with a comma: the stored body
 * goes in as it is (canonical JSON holds no raw tab or line break), so a page is one JSON.parse
 * of `[` + the output + `]` (line breaks are whitespace to JSON), instead of a parse per row of
 * JSON inside JSON (JSONEachRow): the export rate depends on it. LSNs above 2^53 (never seen in
 * practice) would lose precision as JSON numbers: those come as text.
 */
const ROW_JSON = `concat(',[', toJSONString(id), ',', if(lsn > 9007199254740991, concat('"', toString(lsn), '"'), toString(lsn)), ',', toString(seq), ',',
  toJSONString(prev_hash), ',', toJSONString(hash), ',', toString(retention_days), ',', if(critical, '1', '0'), ',', toString(chain_partition), ',', event, ']')`;

type Row = [string, number | string, number, string, string, number, number, number, ChangeEvent];

export interface EntryRead {
  where: string;
  params: Record<string, unknown>;
  order: 'newest-first' | 'oldest-first';
  limit: number;
}

/**
 * The rows of a read, not parsed yet: the position of any of them is read from its line alone,
 * so the next page can be asked for while this one is parsed.
 */
export class RawEntryPage {
  /** Offsets of the line starts. */
  private readonly starts: number[] = [];

  constructor(
    private readonly store: ClickHouseStore,
    private readonly text: string,
    private readonly sql: string,
    private readonly params: Record<string, unknown>,
  ) {
    for (let at = 0; at < text.length; ) {
      this.starts.push(at);
      const end = text.indexOf('\n', at);
      at = end < 0 ? text.length : end + 1;
    }
  }

  get rows(): number {
    return this.starts.length;
  }

  /** Log position of row `index` (from 0), from the start of its line: `,["id",lsn,seq,`. */
  positionOf(index: number): LogPositionKey {
    const start = this.starts[index]!;
    const match = /^,\["[^"]*","?(\d+)"?,(\d+),/.exec(this.text.slice(start, start + 120));
    if (!match) throw new WalauditError('STORE_QUERY_FAILED', 'a page of the audit log came back in an unexpected form');
    return { lsn: BigInt(match[1]!), seq: Number(match[2]) };
  }

  /** The entries of the first `limit` rows (all when absent), each once. */
  async entries(limit = this.rows): Promise<PositionedEntry[]> {
    const end = limit >= this.rows ? this.text.length : this.starts[limit]!;
    if (end === 0) return [];
    let rows: Row[];
    try {
      rows = JSON.parse(`[${this.text.slice(1, end)}]`) as Row[];
    } catch {
      throw await notJson(this.store, this.sql, this.params);
    }
    const entries: PositionedEntry[] = [];
    let previous: LogPositionKey | null = null;
    for (const row of rows) {
      const positioned = toPositioned(row);
      // A replayed copy not merged yet comes right after its original (same position): dropped.
      if (previous && positioned.position.lsn === previous.lsn && positioned.position.seq === previous.seq) continue;
      entries.push(positioned);
      previous = positioned.position;
    }
    return entries;
  }
}

/**
 * Reads `limit` rows of audit_log (`where` from entry-filter-sql) in log order. A replayed copy not
 * merged yet is a row too: entries() drops it, so a page may hold fewer entries than rows. Not
 * LIMIT 1 BY in SQL: it kept ClickHouse from stopping once it had read enough, and a page cost
 * about twice as much, more the further the rest of the log reached (an export was quadratic).
 */
export async function readRawEntries(store: ClickHouseStore, { where, params, order, limit }: EntryRead): Promise<RawEntryPage> {
  const direction = order === 'newest-first' ? 'DESC' : 'ASC';
  const sql = `SELECT ${ROW_JSON} FROM ${store.table('audit_log')} ${where}
    ORDER BY lsn ${direction}, seq ${direction} LIMIT ${Math.trunc(limit)}`;
  return new RawEntryPage(store, await store.selectRawText(sql, params), sql, params);
}

export async function readEntries(store: ClickHouseStore, read: EntryRead): Promise<PositionedEntry[]> {
  return (await readRawEntries(store, read)).entries();
}

/**
 * A page of `limit` rows and where the next one starts: one row more is read to know whether
 * there is one. Null when this page ends the read.
 */
export async function readPage(store: ClickHouseStore, read: EntryRead): Promise<{ entries: PositionedEntry[]; next: LogPositionKey | null }> {
  const raw = await readRawEntries(store, { ...read, limit: read.limit + 1 });
  return { entries: await raw.entries(read.limit), next: raw.rows > read.limit ? raw.positionOf(read.limit - 1) : null };
}

function toPositioned([id, lsn, seq, prevHash, hash, retention, critical, partition, event]: Row): PositionedEntry {
  // The parsed body becomes the entry (a copy per entry cost a tenth of an export's time).
  const entry = event as AuditEntry;
  if (entry.id !== id) {
    // The id column and the hashed body disagree: only an edit outside walaudit does that.
    throw new WalauditError('CHAIN_BROKEN', `entry ${id} holds the body of entry ${String(entry.id)}: run \`walaudit verify\``);
  }
  entry.prevHash = prevHash;
  entry.hash = hash;
  entry.retentionDays = retention;
  entry.critical = critical === 1;
  if (partition !== 0) entry.partition = partition;
  return { entry, position: { lsn: BigInt(lsn), seq } };
}

/** A page that did not parse: some body is not JSON. Names the first such entry. */
async function notJson(store: ClickHouseStore, sql: string, params: Record<string, unknown>): Promise<WalauditError> {
  const rows = await store.selectFields(sql.replace(ROW_JSON, 'id, event'), params);
  for (const [id, event] of rows) {
    try {
      JSON.parse(event ?? '');
    } catch {
      return new WalauditError('CHAIN_BROKEN', `entry ${id} holds an event that is not JSON: run \`walaudit verify\``);
    }
  }
  return new WalauditError('STORE_QUERY_FAILED', 'a page of the audit log could not be read as JSON although every event is');
}
