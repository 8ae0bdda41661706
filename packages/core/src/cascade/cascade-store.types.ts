import type { AuditEntry } from '../change-event.types.js';
import type { Lsn } from '../lsn.js';
import type { CascadeLink } from './cascade-link.types.js';

/** Where cascade links live (ClickHouse `cascade_links`), beside the audit log. */
export interface CascadeLinkStore {
  /** Durable when it resolves. A replayed link is harmless (collapses with its copy). */
  insertLinks(links: readonly CascadeLink[]): Promise<void>;
  /** The links of every row the entry's deletion removed or nulled, at any depth, by depth then log order. */
  linksCausedBy(entryId: string): Promise<CascadeLink[]>;
  /** The link of one entry, when Postgres caused it. */
  linkOf(entryId: string): Promise<CascadeLink | null>;
  /**
   * For a root delete (an entry no link names as caused): the entries its deletion removed
   * (kind cascade), read in one pass without their links, and its SET NULL links. Null when the
   * entry is itself caused (use linksCausedBy). The deletes carry what a restore plans with (row
   * images, columns, key, transaction): their actor is empty and their hashes are not read.
   * `root` is the root's own entry. `onDeletes`, when given, receives the deletes as they are
   * read, in pages in log order, before the call resolves (a restore checks them meanwhile).
   */
  rootCascade(root: AuditEntry, onDeletes?: (page: AuditEntry[]) => void): Promise<{ deletes: AuditEntry[]; setNull: CascadeLink[] } | null>;
  /** Every link of one transaction id, in log order. */
  linksOfTransaction(xid: number): Promise<CascadeLink[]>;
}

/** What the restorer and the correlator's recovery read from the audit log besides queryLog. */
export interface EntryReader {
  /** The entries with these ids (any order; missing ids are absent). */
  entriesByIds(ids: readonly string[]): Promise<AuditEntry[]>;
  /** Row deletes (and, with `updates`, updates) of one transaction id, in log order. */
  rowChangesOfTransaction(xid: number, options?: { updates?: boolean }): Promise<AuditEntry[]>;
  /**
   * Deletes and updates committed at or after `fromLsn` of the given tables, in log order, in
   * pages: what a restarted correlator links again (entries stored but not yet linked). With
   * `partition`, only the entries that came through that Kafka partition (distributed mode).
   */
  rowChangesSince(fromLsn: Lsn, tables: readonly string[], partition?: number): AsyncIterable<AuditEntry[]>;
}

/**
 * The cascade links and the entry lookups beside them, on one store: what the correlator links
 * with, what a restore selects its rows from, and what `walaudit log --caused-by` reads.
 */
export interface CascadeStore extends CascadeLinkStore, EntryReader {}
