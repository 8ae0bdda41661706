/** The API's answers, as far as the console reads them (docs/api.md). */
export type Row = Record<string, string | null>;

export interface Entry {
  id: string;
  op: 'insert' | 'update' | 'delete' | 'truncate' | 'action' | 'schema';
  schema: string;
  table: string;
  pk: Row | null;
  columns: { name: string; type: string }[];
  before: Row | null;
  after: Row | null;
  changed: string[];
  tx: { xid: number; lsn: string; commitTime: string; seq: number };
  actor: {
    app?: { user?: string; ip?: string; reason?: string; [key: string]: unknown };
    db?: { user: string; ip: string | null; applicationName: string; statement: string };
  };
  action?: { name: string; [key: string]: unknown };
  hash: string;
  prevHash: string;
  retentionDays: number;
  critical: boolean;
}

export interface CascadeLink {
  entryId: string;
  kind: 'cascade' | 'set-null';
  schema: string;
  table: string;
  key: Row | null;
  parentEntryId: string;
  parentTable: string;
  parentSchema: string;
  parentKey: Row;
  constraint: string;
}

export interface EntryDetail {
  entry: Entry;
  changes: { column: string; before: string | null; after: string | null }[];
  cascadeParent: CascadeLink | null;
  cascadeChildren: CascadeLink[];
  cascadeChildCount: number;
  chain: { partition: number; chain: number; hashOk: boolean; link: 'linked' | 'start' | 'broken' };
}

export interface Alert {
  id: string;
  kind: string;
  status: string;
  actor: { name: string };
  tables: { table: string; rows: number; allRows: boolean }[];
  rows: number;
  xid: number | null;
  xids: number[];
  firstEntryId: string;
  firstCommitTime: string;
  lastCommitTime: string;
  raisedAt: string;
  acknowledgement: { by: string; at: string; note: string } | null;
}

export interface Counters {
  openAlerts: { total: number; byKind: Record<string, number> } | null;
  entriesStored: number;
  pipeline: { state: string; slotActive: boolean; lagBytes: number | null; slotLost: boolean };
}

export function actorName(entry: Entry): string {
  return entry.actor.app?.user ?? entry.actor.db?.user ?? 'unknown';
}
