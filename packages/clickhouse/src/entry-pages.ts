import { WalauditError, type AuditEntry, type ChangeEvent, type LogPositionKey } from '@walaudit/core';
import type { ClickHouseStore } from './clickhouse-store.js';

/** An entry read back with its position in log order (the keyset of the next page). */
export interface PositionedEntry {
  entry: AuditEntry;
  position: LogPositionKey;
}

/**
 * One JSON array per row, built by ClickHouse: the stored body goes in as it is (canonical JSON
 * holds no raw tab or line break), so a page is one JSON.parse here instead of a parse per row of
 * JSON inside JSON (JSONEachRow): the export rate depends on it.
 */
const ROW_JSON = `concat('[', toJSONString(id), ',', toString(lsn), ',', toString(seq), ',', toJSONString(prev_hash), ',', toJSONString(hash), ',',
  toString(retention_days), ',', if(critical, '1', '0'), ',', toString(chain_partition), ',', event, ']')`;

/** LSNs above 2^53 lose precision as JSON numbers: those (never seen in practice) come as text. */
const ROW_JSON_SAFE = ROW_JSON.replace(`toString(lsn)`, `if(lsn > 9007199254740991, concat('"', toString(lsn), '"'), toString(lsn))`);

type Row = [string, number | string, number, string, string, number, number, number, ChangeEvent];

/**
 * Reads entries of audit_log: `where` and `params` from entry-filter-sql, newest or oldest first,
 * at most `limit` (a replayed copy not merged yet counts once).
 */
export async function readEntries(
  store: ClickHouseStore,
  { where, params, order, limit }: { where: string; params: Record<string, unknown>; order: 'newest-first' | 'oldest-first'; limit: number },
): Promise<PositionedEntry[]> {
  const direction = order === 'newest-first' ? 'DESC' : 'ASC';
  const sql = `SELECT ${ROW_JSON_SAFE} FROM ${store.table('audit_log')} ${where}
    ORDER BY lsn ${direction}, seq ${direction} LIMIT 1 BY lsn, seq LIMIT ${Math.trunc(limit)}`;
  let rows: Row[];
  try {
    rows = await store.selectJsonRows<Row>(sql, params);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw await notJson(store, sql, params);
  }
  return rows.map(toPositioned);
}

function toPositioned([id, lsn, seq, prevHash, hash, retention, critical, partition, event]: Row): PositionedEntry {
  // The parsed body becomes the entry (a copy per entry cost a tenth of an export's time).
  const entry = event as AuditEntry;
  entry.prevHash = prevHash;
  entry.hash = hash;
  entry.retentionDays = retention;
  entry.critical = critical === 1;
  if (partition !== 0) entry.partition = partition;
  if (entry.id !== id) {
    // The id column and the hashed body disagree: only an edit outside walaudit does that.
    throw new WalauditError('CHAIN_BROKEN', `entry ${id} holds the body of entry ${String(entry.id)}: run \`walaudit verify\``);
  }
  return { entry, position: { lsn: BigInt(lsn), seq } };
}

/** A page that did not parse: some body is not JSON. Names the first such entry. */
async function notJson(store: ClickHouseStore, sql: string, params: Record<string, unknown>): Promise<WalauditError> {
  const rows = await store.selectFields(sql.replace(ROW_JSON_SAFE, 'id, event'), params);
  for (const [id, event] of rows) {
    try {
      JSON.parse(event ?? '');
    } catch {
      return new WalauditError('CHAIN_BROKEN', `entry ${id} holds an event that is not JSON: run \`walaudit verify\``);
    }
  }
  return new WalauditError('STORE_QUERY_FAILED', 'a page of the audit log could not be read as JSON although every event is');
}
