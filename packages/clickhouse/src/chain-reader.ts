import type { ClickHouseClient } from '@clickhouse/client';
import type { LogPositionKey, StoredChainLink } from '@walaudit/core';
import { withStoreErrors } from './store-errors.js';

interface ChainRow {
  id: string;
  prev_hash: string;
  hash: string;
  event: string;
  lsn_text: string;
  seq: number | string;
  retention_days: number | string;
  chain_partition: number | string;
}

/** Rows per page: bounds memory (chDB materializes each result) while keeping round trips few. */
export const CHAIN_PAGE_ROWS = 10_000;

/**
 * Every stored row in log order, a page at a time by keyset on (lsn, seq): each page is a cheap
 * range read of the sorting key, on a server and on chDB (whose client buffers whole results, so
 * one big streamed query would hold the table in memory).
 *
 * No FINAL and no dedup: verify must see a second row with the same (lsn, seq). LIMIT ... WITH TIES
 * keeps all rows sharing the last key in the same page, so the next page's `> key` skips none.
 */
export async function* readChainPages(
  client: ClickHouseClient,
  auditLog: string,
  target: string,
  pageRows: number = CHAIN_PAGE_ROWS,
  from?: LogPositionKey,
): AsyncGenerator<StoredChainLink> {
  // The first page starts at `from` (inclusive), the next ones after the last row read.
  const fetchPage = (after: { lsn: string; seq: string } | null) =>
    withStoreErrors(target, async () => {
      const start = after ? 'WHERE lsn >= {lsn:UInt64} AND (lsn > {lsn:UInt64} OR seq > {seq:UInt32})' : from ? 'WHERE lsn >= {lsn:UInt64} AND (lsn > {lsn:UInt64} OR seq >= {seq:UInt32})' : '';
      const result = await client.query({
        query: `SELECT id, prev_hash, hash, event, toString(lsn) AS lsn_text, seq, retention_days, chain_partition
          FROM ${auditLog}
          ${start}
          ORDER BY lsn, seq
          LIMIT ${pageRows} WITH TIES`,
        query_params: after ?? (from ? { lsn: from.lsn.toString(), seq: String(from.seq) } : {}),
        format: 'JSONEachRow',
      });
      return result.json<ChainRow>();
    });
  let next = fetchPage(null);
  for (;;) {
    const page = await next;
    const last = page.at(-1);
    const more = last !== undefined && page.length >= pageRows;
    if (more) {
      // Read ahead while the caller works through this page; at most two pages are held. If the
      // caller stops early the read is dropped, and its failure must not go unhandled.
      next = fetchPage({ lsn: last.lsn_text, seq: String(last.seq) });
      next.catch(() => {});
    }
    for (const row of page) {
      const partition = Number(row.chain_partition);
      const link: StoredChainLink = { chain: Number(row.retention_days), id: row.id, prevHash: row.prev_hash, hash: row.hash, body: row.event };
      if (partition !== 0) link.partition = partition;
      yield link;
    }
    if (!more) return;
  }
}
