import type { RowImage } from '../change-event.types.js';

/**
 * Why a row changed without anyone asking for it: Postgres removed it (ON DELETE CASCADE) or set
 * its foreign key to NULL (ON DELETE SET NULL) because a row it pointed at was deleted in the same
 * transaction. Stored in ClickHouse `cascade_links` (schemas/clickhouse/0003_cascade_links.sql).
 */
export interface CascadeLink {
  /** The caused entry: a delete (kind cascade) or an update (kind set-null). */
  entryId: string;
  kind: 'cascade' | 'set-null';
  schema: string;
  table: string;
  /** The caused entry's key (its `pk`), so a tree can be printed without reading the entries. */
  key: RowImage | null;
  xid: number;
  /** Commit LSN, Postgres spelling, and position in the transaction of the caused entry. */
  lsn: string;
  seq: number;
  /** The foreign key Postgres followed. */
  constraint: string;
  /** The deleted row the foreign key pointed at. */
  parentEntryId: string;
  parentSchema: string;
  parentTable: string;
  /** The parent's referenced columns and their values (a key of the parent). */
  parentKey: RowImage;
  /** The delete that started the chain: the parent itself, or the parent's own root. */
  rootEntryId: string;
  rootSchema: string;
  rootTable: string;
  /** Steps from the root: 1 for a direct child of the root. */
  depth: number;
}
