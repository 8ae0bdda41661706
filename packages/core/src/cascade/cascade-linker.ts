import type { ChangeEvent, RowImage } from '../change-event.types.js';
import type { CascadeLink } from './cascade-link.types.js';
import { isCascading, keyText, qualifiedName, type ForeignKey } from './foreign-key.types.js';
import { GrowableInt32 } from './grow-array.js';

export interface CascadeLinkerOptions {
  /**
   * Most deleted parent keys remembered within one transaction. Past it, later children of the
   * transaction are not linked (they stay grouped by xid) and `overflowed` says so.
   */
  maxTrackedKeys?: number;
}

/** The referenced side of one or more cascading foreign keys: which deleted keys to remember. */
interface ReferencedKey {
  columns: string[];
  /** Key text -> seq of the delete that removed it, for the current transaction only. */
  deleted: Map<string, number>;
}

interface TableIndex {
  id: number;
  schema: string;
  table: string;
  /** Cascading keys from this table to a parent, with the parent's remembered keys. */
  cascades: { fk: ForeignKey; parent: ReferencedKey; parentTable: TableIndex }[];
  setNulls: { fk: ForeignKey; parent: ReferencedKey; parentTable: TableIndex }[];
  /** Keys of this table some cascading foreign key points at. */
  referenced: ReferencedKey[];
}

export const DEFAULT_MAX_TRACKED_KEYS = 5_000_000;

/**
 * Links the rows Postgres removed (ON DELETE CASCADE) or nulled (ON DELETE SET NULL) to the delete
 * that caused them, streaming: events arrive in log order, a transaction may span many calls.
 * Postgres writes a parent's delete before the deletes its cascade causes, so a child always finds
 * its parent already seen. Memory: per transaction, one map entry per deleted row of a table that a
 * cascading key points at (key text -> seq) and 12 bytes per position up to the last such row;
 * rows of tables nothing points at (the leaves, usually the bulk of a cascade) cost nothing.
 */
export class CascadeLinker {
  private tables = new Map<string, TableIndex>();
  private byId: TableIndex[] = [];
  private readonly maxTrackedKeys: number;
  private txLsn: string | null = null;
  private tracked = 0;
  private rootSeq = new GrowableInt32();
  private rootTable = new GrowableInt32();
  private depth = new GrowableInt32();
  private dirty = false;
  /** Set when a transaction had more parent keys than maxTrackedKeys; cleared by the next one. */
  overflowed = false;

  constructor(foreignKeys: readonly ForeignKey[], options: CascadeLinkerOptions = {}) {
    this.maxTrackedKeys = options.maxTrackedKeys ?? DEFAULT_MAX_TRACKED_KEYS;
    this.setForeignKeys(foreignKeys);
  }

  /** Replaces the foreign keys (after a schema change). The current transaction's memory is dropped. */
  setForeignKeys(foreignKeys: readonly ForeignKey[]): void {
    this.tables = new Map();
    this.byId = [];
    const tableOf = (schema: string, table: string): TableIndex => {
      const name = qualifiedName(schema, table);
      let index = this.tables.get(name);
      if (!index) {
        index = { id: this.byId.length, schema, table, cascades: [], setNulls: [], referenced: [] };
        this.tables.set(name, index);
        this.byId.push(index);
      }
      return index;
    };
    for (const fk of foreignKeys) {
      if (!isCascading(fk)) continue;
      const parentTable = tableOf(fk.refSchema, fk.refTable);
      const child = tableOf(fk.schema, fk.table);
      const sameColumns = (ref: ReferencedKey) => ref.columns.length === fk.refColumns.length && ref.columns.every((c, i) => c === fk.refColumns[i]);
      let parent = parentTable.referenced.find(sameColumns);
      if (!parent) {
        parent = { columns: [...fk.refColumns], deleted: new Map() };
        parentTable.referenced.push(parent);
      }
      (fk.onDelete === 'cascade' ? child.cascades : child.setNulls).push({ fk, parent, parentTable });
    }
    this.startTransaction(null);
  }

  /** Deleted parent keys remembered for the current transaction. */
  get trackedKeys(): number {
    return this.tracked;
  }

  /** Links of the events (log order); remembers what later events of the same transaction need. */
  link(events: readonly ChangeEvent[]): CascadeLink[] {
    const links: CascadeLink[] = [];
    for (const event of events) {
      if (event.op !== 'delete' && event.op !== 'update') continue;
      if (event.tx.lsn !== this.txLsn) this.startTransaction(event.tx.lsn);
      const table = this.tables.get(qualifiedName(event.schema, event.table));
      if (!table || !event.before) continue;
      if (event.op === 'delete') this.linkDelete(event, event.before, table, links);
      else if (event.after) this.linkSetNull(event, event.before, event.after, table, links);
    }
    return links;
  }

  private linkDelete(event: ChangeEvent, before: RowImage, table: TableIndex, links: CascadeLink[]): void {
    const seq = event.tx.seq;
    // A row may point at two deleted parents; the one deleted first is the one whose cascade removed it.
    let best: { edge: TableIndex['cascades'][number]; parentSeq: number } | null = null;
    for (const edge of table.cascades) {
      const key = keyText(before, edge.fk.columns);
      if (key === null) continue;
      const parentSeq = edge.parent.deleted.get(key);
      if (parentSeq !== undefined && parentSeq !== seq && (!best || parentSeq < best.parentSeq)) best = { edge, parentSeq };
    }
    let rootSeq = seq;
    let rootTable = table.id;
    let depth = 0;
    if (best) {
      rootSeq = this.rootSeq.get(best.parentSeq) - 1;
      rootTable = this.rootTable.get(best.parentSeq);
      depth = this.depth.get(best.parentSeq) + 1;
      links.push(this.toLink(event, 'cascade', best.edge, best.parentSeq, before, rootSeq, rootTable, depth));
    }
    if (table.referenced.length === 0) return;
    if (this.tracked >= this.maxTrackedKeys) {
      this.overflowed = true;
      return;
    }
    for (const ref of table.referenced) {
      const key = keyText(before, ref.columns);
      if (key === null) continue;
      ref.deleted.set(key, seq);
      this.tracked++;
    }
    this.dirty = true;
    this.rootSeq.set(seq, rootSeq + 1);
    this.rootTable.set(seq, rootTable);
    this.depth.set(seq, depth);
  }

  private linkSetNull(event: ChangeEvent, before: RowImage, after: RowImage, table: TableIndex, links: CascadeLink[]): void {
    for (const edge of table.setNulls) {
      // Postgres nulls every column of the key at once; anything else is an ordinary update.
      if (!edge.fk.columns.every((column) => after[column] === null)) continue;
      const key = keyText(before, edge.fk.columns);
      if (key === null) continue;
      const parentSeq = edge.parent.deleted.get(key);
      if (parentSeq === undefined) continue;
      const rootSeq = this.rootSeq.get(parentSeq) - 1;
      links.push(this.toLink(event, 'set-null', edge, parentSeq, before, rootSeq, this.rootTable.get(parentSeq), this.depth.get(parentSeq) + 1));
      return;
    }
  }

  private toLink(
    event: ChangeEvent,
    kind: CascadeLink['kind'],
    edge: TableIndex['cascades'][number],
    parentSeq: number,
    before: RowImage,
    rootSeq: number,
    rootTable: number,
    depth: number,
  ): CascadeLink {
    const prefix = event.id.slice(0, event.id.lastIndexOf('-') + 1);
    const parentKey: RowImage = {};
    edge.fk.refColumns.forEach((column, i) => (parentKey[column] = before[edge.fk.columns[i]!] ?? null));
    const root = this.byId[rootTable]!;
    return {
      entryId: event.id,
      kind,
      schema: event.schema,
      table: event.table,
      key: event.pk,
      xid: event.tx.xid,
      lsn: event.tx.lsn,
      seq: event.tx.seq,
      constraint: edge.fk.name,
      parentEntryId: `${prefix}${parentSeq}`,
      parentSchema: edge.parentTable.schema,
      parentTable: edge.parentTable.table,
      parentKey,
      rootEntryId: `${prefix}${rootSeq}`,
      rootSchema: root.schema,
      rootTable: root.table,
      depth,
    };
  }

  private startTransaction(lsn: string | null): void {
    this.txLsn = lsn;
    if (this.dirty) {
      this.dirty = false;
      for (const table of this.byId) for (const ref of table.referenced) ref.deleted = new Map();
      this.rootSeq.reset();
      this.rootTable.reset();
      this.depth.reset();
    }
    this.tracked = 0;
    this.overflowed = false;
  }
}
