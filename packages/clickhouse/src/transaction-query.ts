import type { ChangeOp, TransactionSummary, TransactionTableCount } from '@walaudit/core';
import type { ClickHouseStore } from './clickhouse-store.js';
import { readPage } from './entry-pages.js';

/**
 * One transaction: its counts per table and op, and its first `limit` entries in log order.
 * Postgres reuses a transaction id after wraparound: the newest transaction with this id is the
 * one summed up (its commit LSN pins every read to one range of the sorting key).
 */
export async function transactionSummary(store: ClickHouseStore, xid: number, limit: number): Promise<TransactionSummary | null> {
  const auditLog = store.table('audit_log');
  const [newest] = await store.select<{ lsn: string; entries: string }>(
    `SELECT toString(max(lsn)) AS lsn, toString(count()) AS entries FROM ${auditLog} WHERE xid = {xid:UInt64}`,
    { xid: String(xid) },
  );
  if (!newest || newest.entries === '0') return null;
  const params = { lsn: newest.lsn, xid: String(xid) };
  const where = 'WHERE lsn = {lsn:UInt64} AND xid = {xid:UInt64}';
  const [counts, page] = await Promise.all([
    store.select<{ schema_name: string; table_name: string; op: ChangeOp; entries: string }>(
      `SELECT schema_name, table_name, op, toString(count()) AS entries, min(seq) AS first
         FROM (SELECT seq, schema_name, table_name, op FROM ${auditLog} ${where} LIMIT 1 BY seq)
        GROUP BY schema_name, table_name, op ORDER BY first`,
      params,
    ),
    readPage(store, { where, params, order: 'oldest-first', limit }),
  ]);
  const first = page.entries[0]?.entry;
  if (!first) return null;
  const tableCounts: TransactionTableCount[] = counts.map((row) => ({ table: `${row.schema_name}.${row.table_name}`, op: row.op, entries: Number(row.entries) }));
  return {
    xid,
    lsn: first.tx.lsn,
    commitTime: first.tx.commitTime,
    actor: first.actor,
    entryCount: tableCounts.reduce((sum, count) => sum + count.entries, 0),
    tables: [...new Set(tableCounts.map((count) => count.table))],
    counts: tableCounts,
    entries: page.entries.map((row) => row.entry),
    truncated: page.next !== null,
  };
}
