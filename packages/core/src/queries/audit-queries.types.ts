import type { AuditEntry, ChangeOp, RowImage } from '../change-event.types.js';
import type { CascadeLink } from '../cascade/cascade-link.types.js';

/**
 * What analysts ask of the audit log (the API's entries, history, transaction, stats and export
 * pages): the contract the store implements. Every list is in log order, (commit LSN, seq).
 */

/** Which entries: every member given must match (AND); an absent member matches all. */
export interface EntryFilter {
  /** `schema.table`, or a bare table name in any schema. Several: any of them. */
  tables?: readonly string[];
  ops?: readonly ChangeOp[];
  /** The application user (withAuditContext) or the database user: either matches. */
  actor?: string;
  /** The client address (the connection's, else the one the application sent). */
  clientIp?: string;
  /** Postgres application_name of the session. */
  application?: string;
  xid?: number;
  /** ISO 8601: committed at or after it. */
  from?: string;
  /** ISO 8601: committed before it. */
  to?: string;
  /** One row: its table (as in `tables`) and primary key values (text forms, as in `pk`). */
  key?: { table: string; pk: RowImage };
  /** Text inside a value of the row before or after the change; case-insensitive. */
  text?: string;
  /** W3C trace id (32 hex digits) of the statement, from its `traceparent` tag. */
  traceId?: string;
  /** sqlcommenter tags the statement carried, key to exact value; several: all of them. */
  tags?: Readonly<Record<string, string>>;
}

/** One page of a search, newest first. */
export interface EntryPageRequest {
  filter: EntryFilter;
  /**
   * Entries per page, 1 to MAX_PAGE_ENTRIES: at most that many. A copy of a replayed entry that
   * the store has not merged yet takes a place in the page without being shown twice.
   */
  limit: number;
  /** From the previous page's nextCursor; absent for the first page. */
  cursor?: string;
  /** Also count every entry the filter matches (a second query; leave off for later pages). */
  count?: boolean;
}

export interface EntryPage {
  entries: AuditEntry[];
  /** Opaque; absent when this page is the last. Pages never overlap and never skip an entry. */
  nextCursor?: string;
  /** Entries matching the filter (all pages), when asked for. */
  total?: number;
}

/** One column an update changed. */
export interface ColumnChange {
  column: string;
  before: string | null;
  after: string | null;
}

/** Where an entry sits in its hash chain and whether its own links hold. */
export interface EntryChainCheck {
  /** Kafka partition of the chain (0 in standalone mode). */
  partition: number;
  /** The chain: retention in days of its entries (0 kept forever). */
  chain: number;
  /** Its stored body hashes to its stored hash (with its stored prevHash). */
  hashOk: boolean;
  /**
   * linked: the previous entry of its chain has the hash this one names; start: none precedes it
   * and it names the genesis hash (or retention purged what came before); broken: neither.
   */
  link: 'linked' | 'start' | 'broken';
  /** The previous entry of its chain, when there is one. */
  previousId?: string;
}

/** One entry with what explains it. */
export interface EntryDetail {
  entry: AuditEntry;
  /** For an update: the columns it changed, old and new text; empty otherwise. */
  changes: ColumnChange[];
  /** The link that says which deletion caused this entry, when Postgres did (cascade, set null). */
  cascadeParent: CascadeLink | null;
  /** Links of the entries this one's deletion caused directly, the first CHILDREN_SHOWN of them. */
  cascadeChildren: CascadeLink[];
  /** How many entries this one's deletion caused directly. */
  cascadeChildCount: number;
  chain: EntryChainCheck;
}

/** How a version of a row came about. */
export type VersionKind = 'created' | 'updated' | 'deleted' | 'restored' | 'reverted' | 'truncated';

/** Who restored a row (a walaudit restore recorded through its audit context). */
export interface RestoreInfo {
  requestedBy?: string;
  reason?: string;
  job?: string;
}

/** One version of a row: the entry that made it and the row it left (null once deleted). */
export interface RecordVersion {
  kind: VersionKind;
  entry: AuditEntry;
  /** The row after this entry; null after a deletion. */
  row: RowImage | null;
  /** For updates: what changed. */
  changes: ColumnChange[];
  /** Set when walaudit's restorer wrote this version. */
  restore?: RestoreInfo;
}

export interface RecordHistory {
  versions: RecordVersion[];
  /** Absent when the last version is in this page. */
  nextCursor?: string;
}

export interface TransactionTableCount {
  /** `schema.table`. */
  table: string;
  op: ChangeOp;
  entries: number;
}

/** One transaction, summed up, with its first entries. */
export interface TransactionSummary {
  xid: number;
  /** Postgres spelling of the commit LSN. */
  lsn: string;
  commitTime: string;
  /** The actor of its first entry (every entry of a transaction shares the session). */
  actor: AuditEntry['actor'];
  entryCount: number;
  /** `schema.table` in order of first appearance. */
  tables: string[];
  counts: TransactionTableCount[];
  /** Its entries in log order, the first `limit` of them (search by xid for the rest). */
  entries: AuditEntry[];
  /** More entries than returned. */
  truncated: boolean;
}

export type StatsBucket = 'minute' | 'hour' | 'day' | 'week' | 'month';
export type StatsGroup = 'table' | 'actor' | 'op';
export const STATS_BUCKETS: readonly StatsBucket[] = ['minute', 'hour', 'day', 'week', 'month'];
export const STATS_GROUPS: readonly StatsGroup[] = ['table', 'actor', 'op'];

export interface StatsRequest {
  bucket: StatsBucket;
  groupBy: StatsGroup;
  /** ISO 8601, inclusive. */
  from: string;
  /** ISO 8601, exclusive. */
  to: string;
  /** Narrows what is counted (its from/to are ignored: the request's are used). */
  filter?: EntryFilter;
}

export interface StatsPoint {
  /** Start of the bucket, ISO 8601 UTC (weeks start on Monday). */
  bucket: string;
  /** `schema.table`, the actor (app user, else db user, else `unknown`) or the op. */
  group: string;
  entries: number;
}

export interface ActorDeletions {
  actor: string;
  /** Rows deleted one by one. */
  deletes: number;
  /** TRUNCATE statements (each removed every row of a table). */
  truncates: number;
}

export interface ExportOptions {
  /** Entries per page handed out (and held in memory at once, plus one read ahead). */
  pageRows?: number;
}

/** The queries, implemented by the store (ClickHouse). Validation errors are CONFIG_INVALID naming the filter. */
export interface AuditQueries {
  searchEntries(request: EntryPageRequest): Promise<EntryPage>;
  countMatches(filter: EntryFilter): Promise<number>;
  /** Null when no entry has this id. */
  entryDetail(id: string): Promise<EntryDetail | null>;
  /**
   * The versions of one row, oldest first, a page of them (`limit`, default 1000); pass the
   * previous page's nextCursor for the next. Empty when the log has none.
   */
  recordHistory(table: string, pk: RowImage, options?: { limit?: number; cursor?: string }): Promise<RecordHistory>;
  /** Null when the log holds no entry of this transaction. */
  transaction(xid: number, options?: { limit?: number }): Promise<TransactionSummary | null>;
  stats(request: StatsRequest): Promise<StatsPoint[]>;
  /** Actors by rows deleted (deletes + truncates) between from and to, most first. */
  topDeleters(range: { from: string; to: string }, limit: number): Promise<ActorDeletions[]>;
  /** Every entry the filter matches, newest first, a page at a time: memory stays flat. */
  exportEntries(filter: EntryFilter, options?: ExportOptions): AsyncIterable<AuditEntry[]>;
  /**
   * The same entries as CSV records (csvRecord's columns, cascade_parent left empty for the
   * caller), newest first, a page at a time: shaped by the store from the columns it writes, so no
   * entry is parsed whole.
   */
  exportCsvRecords(filter: EntryFilter, options?: ExportOptions): AsyncIterable<string[][]>;
  /**
   * The same entries as JSON lines (each entry as exportEntries gives it, one per line, each line
   * ended by a line feed), newest first, a page at a time as UTF-8 bytes: the stored body passed
   * through, never parsed or decoded.
   */
  exportJsonLines(filter: EntryFilter, options?: ExportOptions): AsyncIterable<Uint8Array>;
  /**
   * The entry whose deletion caused each of these (ON DELETE CASCADE / SET NULL), by caused entry
   * id; entries no foreign key caused are absent. One read for a page of an export.
   */
  cascadeParents(entryIds: readonly string[]): Promise<Map<string, string>>;
}
