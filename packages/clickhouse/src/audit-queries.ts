import {
  GENESIS_HASH,
  chainHash,
  checkEntryFilter,
  checkLimit,
  decodeCursor,
  encodeCursor,
  positionOfEntryId,
  recordVersion,
  updateChanges,
  type ActorDeletions,
  type AuditEntry,
  type AuditQueries,
  type EntryChainCheck,
  type EntryDetail,
  type EntryFilter,
  type EntryPage,
  type EntryPageRequest,
  type ExportOptions,
  type LogPositionKey,
  type RecordHistory,
  type RowImage,
  type StatsPoint,
  type StatsRequest,
  type TransactionSummary,
} from '@walaudit/core';
import type { ClickHouseCascadeLinks } from './cascade-link-store.js';
import type { ClickHouseStore } from './clickhouse-store.js';
import { afterPosition, beforePosition, filterSql, whereClause, type FilterSql } from './entry-filter-sql.js';
import { readEntries, readPage, readRawEntries, type RawEntryPage } from './entry-pages.js';
import { exportCsvRecords, exportJsonLines } from './export-reads.js';
import { entryStats, topDeleters } from './stats-queries.js';
import { transactionSummary } from './transaction-query.js';

/** Cascade children an entry's detail lists (the count says how many there are). */
export const CHILDREN_SHOWN = 100;
/**
 * Entries per export page unless asked otherwise. Two pages are held (one being read ahead): 10k
 * rows had the same rate but about 300 MB of heap at the peak instead of about 190; 1000 to 2000
 * were slower (a query per page costs about as much as parsing a few hundred entries).
 */
export const EXPORT_PAGE_ROWS = 5_000;
/** Entries per page of a CSV or JSON lines export (measured with bench/exports-http.mjs). */
export const TEXT_EXPORT_PAGE_ROWS = 2_000;
const MAX_EXPORT_PAGE_ROWS = 50_000;
const HISTORY_PAGE_DEFAULT = 1000;

/** The analysts' queries (core's AuditQueries) on the audit log and cascade links of one store. */
export class ClickHouseAuditQueries implements AuditQueries {
  constructor(
    private readonly store: ClickHouseStore,
    private readonly links: ClickHouseCascadeLinks,
  ) {}

  async searchEntries(request: EntryPageRequest): Promise<EntryPage> {
    const limit = checkLimit(request.limit);
    const filter = filterSql(checkEntryFilter(request.filter));
    const after = request.cursor === undefined ? null : beforePosition(decodeCursor(request.cursor));
    const counting = request.count ? this.countChecked(filter) : undefined;
    counting?.catch(() => undefined);
    const page = await this.page(filter, after, limit);
    if (counting) page.total = await counting;
    return page;
  }

  countMatches(filter: EntryFilter): Promise<number> {
    return this.countChecked(filterSql(checkEntryFilter(filter)));
  }

  async entryDetail(id: string): Promise<EntryDetail | null> {
    const position = positionOfEntryId(id);
    const [found] = await readEntries(this.store, {
      ...whereClause({ conditions: ['lsn = {lsn:UInt64}', 'seq = {seq:UInt32}'], params: { lsn: position.lsn.toString(), seq: position.seq } }),
      order: 'newest-first',
      limit: 1,
    });
    if (!found) return null;
    const { entry } = found;
    const [parent, children, chain] = await Promise.all([
      this.links.linkOf(entry.id),
      this.links.childrenOf(entry.id, CHILDREN_SHOWN),
      this.chainCheck(entry, position),
    ]);
    return { entry, changes: updateChanges(entry), cascadeParent: parent, cascadeChildren: children.links, cascadeChildCount: children.total, chain };
  }

  async recordHistory(table: string, pk: RowImage, options: { limit?: number; cursor?: string } = {}): Promise<RecordHistory> {
    const limit = checkLimit(options.limit ?? HISTORY_PAGE_DEFAULT);
    const filter = filterSql(checkEntryFilter({ key: { table, pk } }));
    const after = options.cursor === undefined ? null : afterPosition(decodeCursor(options.cursor));
    const page = await readPage(this.store, { ...whereClause(filter, ...(after ? [after] : [])), order: 'oldest-first', limit });
    const history: RecordHistory = { versions: page.entries.map((row) => recordVersion(row.entry)) };
    if (page.next) history.nextCursor = encodeCursor(page.next);
    return history;
  }

  transaction(xid: number, options: { limit?: number } = {}): Promise<TransactionSummary | null> {
    checkEntryFilter({ xid });
    return transactionSummary(this.store, xid, checkLimit(options.limit ?? HISTORY_PAGE_DEFAULT));
  }

  stats(request: StatsRequest): Promise<StatsPoint[]> {
    return entryStats(this.store, request);
  }

  topDeleters(range: { from: string; to: string }, limit: number): Promise<ActorDeletions[]> {
    return topDeleters(this.store, range, limit);
  }

  exportEntries(filter: EntryFilter, options: ExportOptions = {}): AsyncIterable<AuditEntry[]> {
    // Checked now, so a bad filter fails the call rather than the first iteration.
    const checked = filterSql(checkEntryFilter(filter));
    const pageRows = checkLimit(options.pageRows ?? EXPORT_PAGE_ROWS, 'pageRows', MAX_EXPORT_PAGE_ROWS);
    return this.exportPages(checked, pageRows);
  }

  exportCsvRecords(filter: EntryFilter, options: ExportOptions = {}): AsyncIterable<string[][]> {
    const checked = filterSql(checkEntryFilter(filter));
    return exportCsvRecords(this.store, checked, checkLimit(options.pageRows ?? TEXT_EXPORT_PAGE_ROWS, 'pageRows', MAX_EXPORT_PAGE_ROWS));
  }

  exportJsonLines(filter: EntryFilter, options: ExportOptions = {}): AsyncIterable<Uint8Array> {
    const checked = filterSql(checkEntryFilter(filter));
    return exportJsonLines(this.store, checked, checkLimit(options.pageRows ?? TEXT_EXPORT_PAGE_ROWS, 'pageRows', MAX_EXPORT_PAGE_ROWS));
  }

  cascadeParents(entryIds: readonly string[]): Promise<Map<string, string>> {
    return this.links.parentsOf(entryIds);
  }

  private async *exportPages(filter: FilterSql, pageRows: number): AsyncGenerator<AuditEntry[]> {
    const read = (after: LogPositionKey | null) =>
      readRawEntries(this.store, { ...whereClause(filter, ...(after ? [beforePosition(after)] : [])), order: 'newest-first', limit: pageRows + 1 });
    let next: Promise<RawEntryPage> | null = read(null);
    while (next) {
      const page: RawEntryPage = await next;
      // The next page is asked for before this one is parsed (its position is read from its
      // line), so ClickHouse reads it while this one is parsed and written: at most two pages are
      // held. A read the caller never awaits (it stopped early) must not count as unhandled.
      next = page.rows > pageRows ? read(page.positionOf(pageRows - 1)) : null;
      next?.catch(() => undefined);
      const entries = await page.entries(pageRows);
      if (entries.length > 0) yield entries.map((row) => row.entry);
    }
  }

  /** One newest-first page of `limit` rows (fewer entries when a replayed copy is among them). */
  private async page(filter: FilterSql, after: FilterSql | null, limit: number): Promise<EntryPage> {
    const read = await readPage(this.store, { ...whereClause(filter, ...(after ? [after] : [])), order: 'newest-first', limit });
    const page: EntryPage = { entries: read.entries.map((row) => row.entry) };
    if (read.next) page.nextCursor = encodeCursor(read.next);
    return page;
  }

  private async countChecked(filter: FilterSql): Promise<number> {
    const { where, params } = whereClause(filter);
    // FINAL: a replayed copy not merged yet is still one entry.
    const rows = await this.store.select<{ entries: string }>(`SELECT toString(count()) AS entries FROM ${this.store.table('audit_log')} FINAL ${where}`, params);
    return Number(rows[0]?.entries ?? 0);
  }

  /** The entry's own hash, and its link to the previous entry of its chain (partition, retention). */
  private async chainCheck(entry: AuditEntry, position: { lsn: bigint; seq: number }): Promise<EntryChainCheck> {
    const partition = entry.partition ?? 0;
    const [own] = await this.store.select<{ event: string; prev_hash: string; hash: string }>(
      `SELECT event, prev_hash, hash FROM ${this.store.table('audit_log')} WHERE lsn = {lsn:UInt64} AND seq = {seq:UInt32} LIMIT 1`,
      { lsn: position.lsn.toString(), seq: position.seq },
    );
    // Recomputed from the body exactly as stored (as verify does), not from the parsed entry.
    const hashOk = own !== undefined && chainHash(own.prev_hash, own.event) === own.hash;
    const [previous] = await this.store.select<{ id: string; hash: string }>(
      `SELECT id, hash FROM ${this.store.table('audit_log')}
        WHERE chain_partition = {partition:UInt32} AND retention_days = {chain:UInt16}
          AND lsn <= {lsn:UInt64} AND (lsn < {lsn:UInt64} OR seq < {seq:UInt32})
        ORDER BY lsn DESC, seq DESC LIMIT 1`,
      { partition, chain: entry.retentionDays, lsn: position.lsn.toString(), seq: position.seq },
    );
    const check: EntryChainCheck = { partition, chain: entry.retentionDays, hashOk, link: 'broken' };
    if (previous) {
      check.previousId = previous.id;
      if (previous.hash === entry.prevHash) check.link = 'linked';
    } else if (entry.prevHash === GENESIS_HASH || entry.retentionDays > 0) {
      // Nothing before it: the chain's first entry, or retention purged its predecessors.
      check.link = 'start';
    }
    return check;
  }
}
