import {
  comparePositions,
  parseLsn,
  positionOf,
  type AuditEntry,
  type CascadeLink,
  type CascadeLinkStore,
  type EntryReader,
  type Lsn,
} from '@walaudit/core';
import type { MemoryAuditStore } from './memory-audit-store.js';

/**
 * Cascade links and the entry lookups of the correlator and the restorer, in memory, beside a
 * MemoryAuditStore: what ClickHouseCascadeLinks does on the same ClickHouse. A replayed link adds a
 * copy that reads hide (one link per entry); reads are in log order; pages are small and can be
 * set, so paging is exercised.
 */
export class MemoryCascadeLinks implements CascadeLinkStore, EntryReader {
  /** Every link inserted, in insert order, copies included. */
  readonly inserted: CascadeLink[] = [];
  /** Calls of insertLinks, failed ones included. */
  insertCalls = 0;
  private readonly failures: unknown[] = [];

  constructor(
    private readonly audit: MemoryAuditStore,
    private readonly options: { pageRows?: number } = {},
  ) {}

  /** The next `times` inserts of links reject with `error` and store nothing. */
  failInserts(error: unknown, times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push(error);
  }

  /** One link per caused entry (the first stored), in log order. */
  links(): CascadeLink[] {
    const seen = new Set<string>();
    return this.inserted.filter((link) => !seen.has(link.entryId) && (seen.add(link.entryId), true)).sort(byLogOrder);
  }

  async insertLinks(links: readonly CascadeLink[]): Promise<void> {
    this.insertCalls++;
    if (this.failures.length > 0) throw this.failures.shift();
    for (const link of links) this.inserted.push(JSON.parse(JSON.stringify(link)) as CascadeLink);
  }

  async linkOf(entryId: string): Promise<CascadeLink | null> {
    return this.links().find((link) => link.entryId === entryId) ?? null;
  }

  async linksCausedBy(entryId: string): Promise<CascadeLink[]> {
    const own = await this.linkOf(entryId);
    const root = own ? own.rootEntryId : entryId;
    const all = this.links()
      .filter((link) => link.rootEntryId === root)
      .sort((a, b) => a.depth - b.depth || byLogOrder(a, b));
    if (!own) return all;
    const under = new Set([entryId]);
    return all.filter((link) => under.has(link.parentEntryId) && (under.add(link.entryId), true));
  }

  async rootCascade(root: AuditEntry, onDeletes: (page: AuditEntry[]) => void = () => undefined): Promise<{ deletes: AuditEntry[]; setNull: CascadeLink[] } | null> {
    if (await this.linkOf(root.id)) return null;
    const links = this.links().filter((link) => link.rootEntryId === root.id);
    const caused = new Set(links.filter((link) => link.kind === 'cascade').map((link) => link.entryId));
    // As the store reads them: the root's transaction fields, no actor, no hashes.
    const deletes = this.audit
      .entries()
      .filter((entry) => caused.has(entry.id))
      .map((entry): AuditEntry => ({ ...entry, tx: { ...root.tx, seq: entry.tx.seq }, actor: {}, changed: [], prevHash: '', hash: '', retentionDays: 0, critical: false }));
    for (const page of this.pages(deletes)) onDeletes(page);
    return { deletes, setNull: links.filter((link) => link.kind === 'set-null') };
  }

  async linksOfTransaction(xid: number): Promise<CascadeLink[]> {
    return this.links().filter((link) => link.xid === xid);
  }

  async entriesByIds(ids: readonly string[]): Promise<AuditEntry[]> {
    const wanted = new Set(ids);
    return this.audit.entries().filter((entry) => wanted.has(entry.id));
  }

  async rowChangesOfTransaction(xid: number, options: { updates?: boolean } = {}): Promise<AuditEntry[]> {
    const ops = options.updates ? ['delete', 'update'] : ['delete'];
    return this.audit.entries().filter((entry) => entry.tx.xid === xid && ops.includes(entry.op));
  }

  async *rowChangesSince(fromLsn: Lsn, tables: readonly string[], partition?: number): AsyncIterable<AuditEntry[]> {
    const named = new Set(tables);
    const changes = this.audit.entries().filter(
      (entry) =>
        parseLsn(entry.tx.lsn) >= fromLsn &&
        (entry.op === 'delete' || entry.op === 'update') &&
        named.has(`${entry.schema}.${entry.table}`) &&
        (partition === undefined || (entry.partition ?? 0) === partition),
    );
    yield* this.pages(changes);
  }

  private *pages(entries: AuditEntry[]): Generator<AuditEntry[]> {
    const size = this.options.pageRows ?? 10_000;
    for (let start = 0; start < entries.length; start += size) yield entries.slice(start, start + size);
  }
}

function byLogOrder(a: CascadeLink, b: CascadeLink): number {
  return comparePositions(positionOf(a), positionOf(b));
}
