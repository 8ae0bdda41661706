import { CSV_COLUMNS, CSV_OP, csvRecord, positionOfEntryId, WalauditError, type AuditEntry, type LogPositionKey } from '@walaudit/core';
import type { ClickHouseStore } from './clickhouse-store.js';
import { beforePosition, whereClause, type FilterSql } from './entry-filter-sql.js';

/** Reads the rows of one page's SQL: as text to parse, or as bytes to pass on. */
type PageReader<T> = (sql: string, params: Record<string, unknown>) => Promise<T>;

/**
 * Exports read in key-range pages, newest first. Each page is two reads: the first lists the
 * page's keys reading only (lsn, seq) and the filter's columns; the second reads the rows of that
 * closed range. Reading whole rows in order with a LIMIT opens every part after the start at once
 * (chain-reader.ts says what that costs); a bounded range touches only the parts and granules that
 * hold it. The range holds every copy of its last key, and the next page's `< key` skips none. A
 * replayed copy not merged yet shows in the keys as a repeat: only then does the row read drop it
 * with `LIMIT 1 BY lsn, seq` (which costs the read about half again as much).
 */
async function* keyRangePages<T>(store: ClickHouseStore, filter: FilterSql, pageRows: number, row: string, read: PageReader<T>): AsyncGenerator<T> {
  const table = store.table('audit_log');
  const fetchPage = async (after: LogPositionKey | null): Promise<{ rows: T | null; last: LogPositionKey | null }> => {
    const parts = [filter, ...(after ? [beforePosition(after)] : [])];
    const start = whereClause(...parts);
    const keys = await store.selectFields(`SELECT toString(lsn), seq FROM ${table} ${start.where} ORDER BY lsn DESC, seq DESC LIMIT ${pageRows}`, start.params);
    if (keys.length === 0) return { rows: null, last: null };
    let repeated = false;
    for (let index = 1; index < keys.length && !repeated; index++) repeated = keys[index]![0] === keys[index - 1]![0] && keys[index]![1] === keys[index - 1]![1];
    const [lsn, seq] = keys.at(-1)!;
    const last = { lsn: BigInt(lsn!), seq: Number(seq) };
    const range = { conditions: ['lsn >= {last_lsn:UInt64}', '(lsn > {last_lsn:UInt64} OR seq >= {last_seq:UInt32})'], params: { last_lsn: lsn, last_seq: last.seq } };
    const { where, params } = whereClause(...parts, range);
    const rows = await read(`${row} FROM ${table} ${where} ORDER BY lsn DESC, seq DESC${repeated ? ' LIMIT 1 BY lsn, seq' : ''}`, params);
    return { rows, last: keys.length < pageRows ? null : last };
  };
  let next = fetchPage(null);
  for (;;) {
    const { rows, last } = await next;
    if (last) {
      // Read ahead while the caller writes this page: at most two pages are held. A read the
      // caller never awaits (it stopped early) must not count as unhandled.
      next = fetchPage(last);
      next.catch(() => undefined);
    }
    if (rows !== null) yield rows;
    if (!last) return;
  }
}

/**
 * One JSON line per entry, built by ClickHouse: the stored body (canonical JSON, one line, sorted
 * keys) with the store's fields appended in the order the parsed entry serializes them, so nothing
 * is parsed in this process.
 */
const JSON_LINE = `SELECT concat(substring(event, 1, length(event) - 1), ',"prevHash":', toJSONString(prev_hash), ',"hash":', toJSONString(hash),
  ',"retentionDays":', toString(retention_days), ',"critical":', if(critical, 'true', 'false'),
  if(chain_partition = 0, '', concat(',"partition":', toString(chain_partition))), '}')`;

/** Pages of JSON lines as the bytes ClickHouse wrote (UTF-8), each line ended by a line feed. */
export function exportJsonLines(store: ClickHouseStore, filter: FilterSql, pageRows: number): AsyncGenerator<Buffer> {
  return keyRangePages(store, filter, pageRows, JSON_LINE, (sql, params) => store.selectRawBytes(sql, params));
}

/**
 * A CSV record per row, in CSV_COLUMNS order, as TabSeparated fields (cheaper to write and to
 * split than a JSON array per row, which cost about twice as much here and in ClickHouse): the
 * typed columns as stored, and the body members a record takes from the event in one parse of it.
 * String members of an object hold its JSON text, '' for null, written as JavaScript writes it (no
 * spaces, members in stored order, which is sorted) except for escapes: ClickHouse writes \u
 * escapes in upper case and escapes U+2028 and U+2029. So a record whose key or row image holds a
 * \u escape, and an action or a schema change (their detail is not read here), is shaped from its
 * body by csvRecord instead (see reshape).
 */
const CSV_ROW = `WITH JSONExtract(event, 'Tuple(pk String, before String, after String, tx Tuple(lsn String, commitTime String), actor Tuple(app Tuple(user String, reason String)))') AS b
  SELECT id, b.tx.commitTime, concat(schema_name, '.', table_name), op, b.pk, b.actor.app.user, db_user, client_ip, application_name, b.actor.app.reason,
    xid, b.tx.lsn, '', arrayStringConcat(changed, ','), b.before, b.after, '', prev_hash, hash`;

const [PK, BEFORE, AFTER, PREV_HASH, HASH] = (['primary_key', 'before', 'after', 'prev_hash', 'hash'] as const).map((column) => CSV_COLUMNS.indexOf(column)) as [number, number, number, number, number];

const shapedFromBody = (record: string[]) =>
  record[CSV_OP] === 'action' || record[CSV_OP] === 'schema' || record[PK]!.includes('\\u') || record[BEFORE]!.includes('\\u') || record[AFTER]!.includes('\\u');

/** One record per entry in CSV_COLUMNS order, cascade_parent left empty. */
export async function* exportCsvRecords(store: ClickHouseStore, filter: FilterSql, pageRows: number): AsyncGenerator<string[][]> {
  for await (const records of keyRangePages(store, filter, pageRows, CSV_ROW, (sql, params) => store.selectFields(sql, params))) {
    const odd = records.filter(shapedFromBody);
    if (odd.length > 0) await reshape(store, odd);
    yield records;
  }
}

/** Rewrites these records in place from their stored bodies (few: see CSV_ROW). */
async function reshape(store: ClickHouseStore, records: string[][]): Promise<void> {
  const ids = records.map((record) => record[0]!);
  // Newest first: the last record's LSN is the lowest (the range keeps the read to the page's parts).
  const [lowest, highest] = [ids.at(-1)!, ids[0]!].map((id) => positionOfEntryId(id).lsn.toString());
  const rows = await store.selectFields(
    `SELECT id, event FROM ${store.table('audit_log')} WHERE lsn >= {lowest:UInt64} AND lsn <= {highest:UInt64} AND id IN {ids:Array(String)} LIMIT 1 BY id`,
    { lowest, highest, ids },
  );
  const bodies = new Map(rows.map(([id, event]) => [id!, event!]));
  for (const record of records) {
    const body = bodies.get(record[0]!);
    if (body === undefined) continue;
    let entry: AuditEntry;
    try {
      entry = JSON.parse(body) as AuditEntry;
    } catch {
      throw new WalauditError('CHAIN_BROKEN', `entry ${record[0]} holds an event that is not JSON: run \`walaudit verify\``);
    }
    const shaped = csvRecord({ ...entry, prevHash: record[PREV_HASH]!, hash: record[HASH]! }, undefined);
    record.splice(0, record.length, ...shaped);
  }
}
