import type { AuditEntry, RowImage } from '../change-event.types.js';
import type { CascadeLink } from '../cascade/cascade-link.types.js';
import type { ForeignKey } from '../cascade/foreign-key.types.js';

/** What a user asks to put back. */
export type RestoreRequest =
  /** One deleted row. */
  | { kind: 'entry'; entryId: string }
  /** Every row a transaction deleted (and the foreign keys its deletes set to NULL). */
  | { kind: 'tx'; xid: number }
  /** A deleted row and everything its deletion removed or nulled. */
  | { kind: 'cascade'; entryId: string }
  /** An updated row back to its values before the update. */
  | { kind: 'revert'; entryId: string };

export type ConflictPolicy = 'fail' | 'skip' | 'new-key';

/** The audit entries a request covers, read from the store. */
export interface RestoreSelection {
  /** Deletes to insert back (any order; the plan orders them). */
  deletes: AuditEntry[];
  /** SET NULL updates to undo, with the link that explains each. */
  nullings: { entry: AuditEntry; link: CascadeLink }[];
  /** Updates to revert (`--revert`). */
  reverts: AuditEntry[];
}

/** A column of a table as it is now. */
export interface CurrentColumn {
  name: string;
  /** format_type(), as the audit entries spell types. */
  type: string;
  notNull: boolean;
  /** A default or identity: an insert may leave it out. */
  hasDefault: boolean;
  /** GENERATED ALWAYS AS (...) STORED: never inserted. */
  generated: boolean;
  /** GENERATED ALWAYS AS IDENTITY: an insert needs OVERRIDING SYSTEM VALUE. */
  identityAlways: boolean;
}

export interface TableFacts {
  schema: string;
  table: string;
  exists: boolean;
  columns: Map<string, CurrentColumn>;
  primaryKey: string[];
  canInsert: boolean;
  canUpdate: boolean;
}

/** What the database holds now, read in the restore's own transaction. */
export interface DatabaseFacts {
  /** By `schema.table`. */
  tables: Map<string, TableFacts>;
  foreignKeys: ForeignKey[];
  /** Rows present now at the keys a restore touches: `schema.table` -> primary-key text -> row text. */
  rows: Map<string, Map<string, RowImage>>;
  /** Foreign-key targets present now: `constraint name` + U+0000 + key text (see keyText). */
  presentTargets: Set<string>;
  /** `schema.table.column` masked by an audit rule: its stored values cannot be put back. */
  maskedColumns: Set<string>;
}

export type ConflictKind =
  | 'key-exists'
  | 'missing-parent'
  | 'column-missing'
  | 'type-changed'
  | 'masked'
  | 'table-missing'
  | 'row-missing'
  | 'changed-since'
  | 'no-new-key'
  | 'not-restorable';

/** A reason a row cannot go back exactly as it was, and what the policy did about it. */
export interface RestoreConflict {
  kind: ConflictKind;
  entryId: string;
  schema: string;
  table: string;
  key: RowImage | null;
  column?: string;
  detail: string;
  /** fail: the restore stops; skipped: this row is not restored; the others restore the row changed. */
  resolution: 'fail' | 'skipped' | 'set-null' | 'column-left-out' | 'new-key';
}

export interface ColumnValue {
  name: string;
  /** The type to cast the text back with (the entry's, equal to the current one). */
  type: string;
  value: string | null;
}

/** A column an insert writes: its name, and the type to cast its text back with. */
export interface StepColumn {
  name: string;
  type: string;
}

export interface InsertStep {
  entryId: string;
  schema: string;
  table: string;
  key: RowImage | null;
  /** The columns written, in order: the steps of one table and column list share one array. */
  columns: readonly StepColumn[];
  /** Their values by position, as text (null: NULL). An array per row, not an object per value. */
  values: (string | null)[];
  /** The table has GENERATED ALWAYS identity columns being restored. */
  overridingSystemValue: boolean;
  /** Inserted without its key columns: the defaults give it a new key (policy new-key). */
  newKey: boolean;
  /** Foreign keys pointing at a row restored with a new key: take the parent's new values. */
  followsNewKey: { columns: string[]; refColumns: string[]; parentEntryId: string }[];
}

export interface UpdateStep {
  entryId: string;
  schema: string;
  table: string;
  key: RowImage | null;
  set: ColumnValue[];
  /** The row, by its current key. */
  where: ColumnValue[];
  /** Columns that must still hold these values (NULL for a SET NULL undo), or nothing is changed. */
  expect: ColumnValue[];
  why: 'set-null' | 'revert';
}

export interface RestorePlan {
  request: RestoreRequest;
  policy: ConflictPolicy;
  /** Insert levels: every row's parents are in an earlier level (or already in the database). */
  levels: InsertStep[][];
  updates: UpdateStep[];
  conflicts: RestoreConflict[];
  /** Rows already back exactly as they were (a repeated request): nothing to do. */
  alreadyPresent: { entryId: string; schema: string; table: string; key: RowImage | null }[];
  /** Policy fail and at least one conflict: nothing may be written. */
  blocked: boolean;
}

/** What a finished (or refused) restore reports. */
export interface RestoreReport {
  request: RestoreRequest;
  policy: ConflictPolicy;
  dryRun: boolean;
  /** ok: committed (or would be, dry run); failed: nothing was written. */
  outcome: 'ok' | 'failed';
  restored: number;
  /** Restored rows per `schema.table`. */
  restoredByTable: Record<string, number>;
  /** Old key -> new key of rows restored with a new key. */
  newKeys: { entryId: string; table: string; oldKey: RowImage | null; newKey: RowImage }[];
  updated: number;
  alreadyPresent: number;
  skipped: { entryId: string; table: string; key: RowImage | null; reason: string }[];
  conflicts: RestoreConflict[];
  /** When outcome is failed: why. */
  error?: { code: string; message: string };
  /** The ordered SQL (dry run only). */
  sql?: string[];
}
