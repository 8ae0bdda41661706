/**
 * The change event: one per row change (or action, or schema change), in commit order.
 * This is the contract every consumer reads; `schemas/change-event.md` documents it field by field.
 */

/** Row operations as Postgres reports them, plus the two entries walaudit adds itself. */
export type RowOp = 'insert' | 'update' | 'delete' | 'truncate';
export type ChangeOp = RowOp | 'action' | 'schema';
export const CHANGE_OPS: readonly ChangeOp[] = ['insert', 'update', 'delete', 'truncate', 'action', 'schema'];

/** A column of the table as it was when the change happened. `type` is the Postgres type name. */
export interface ColumnDef {
  name: string;
  type: string;
  typeOid: number;
}

/**
 * A full row: column name to the value's Postgres text form (exactly what `::text` prints), or
 * null for SQL NULL. Text is lossless for every type and casts back with `'text'::type`.
 */
export type RowImage = Record<string, string | null>;

/** How `pk` was derived: the table's primary key, or the whole row when it has none. */
export type KeyKind = 'primary-key' | 'full-row';

export interface TransactionRef {
  /** Postgres transaction id. */
  xid: number;
  /** Commit LSN, Postgres spelling (`0/1796738`). */
  lsn: string;
  /** Commit time, ISO 8601 with microseconds, UTC. */
  commitTime: string;
  /** Position of this event within its transaction, from 0. */
  seq: number;
}

/** Context the application sent with `withAuditContext` (prefix `walaudit`). Free-form beyond these. */
export interface AppContext {
  user?: string;
  ip?: string;
  reason?: string;
  /**
   * Set when `user` came from this statement's tag of that name (config `actor.appUserFromTags`)
   * rather than from withAuditContext, which named no user.
   */
  userFromTag?: string;
  [key: string]: unknown;
}

/** Context the statement-level triggers installed by `walaudit setup` emit (prefix `walaudit.stmt`). */
export interface DbContext {
  user: string;
  ip: string | null;
  applicationName: string;
  statement: string;
  /** The statement's last 4096 characters, when it was longer than `statement` holds. */
  statementEnd?: string | null;
  backendPid?: number;
}

/**
 * Who made the change. `tags`, `traceId` and `spanId` are absent when the statement carried no
 * sqlcommenter comment, so entries without one encode exactly as before those fields existed.
 * Like the rest of the actor, they are what the session claimed: any role that can run SQL can
 * write any comment.
 */
export interface Actor {
  app?: AppContext;
  db?: DbContext;
  /** The statement's sqlcommenter tags, keys and values URL-decoded (tracestate among them). */
  tags?: Record<string, string>;
  /** W3C trace id (32 lower-case hex digits) from the statement's `traceparent` tag. */
  traceId?: string;
  /** W3C parent span id (16 lower-case hex digits) from the same tag. */
  spanId?: string;
}

/** A lifecycle action the application recorded (prefix `walaudit.action`): approve, export, download. */
export interface ActionDetail {
  name: string;
  [key: string]: unknown;
}

export interface SchemaChange {
  oldColumns: ColumnDef[] | null;
  newColumns: ColumnDef[];
}

export interface ChangeEvent {
  /** Unique and stable: `<commit LSN as 16 hex digits>-<seq>`. The idempotence key downstream. */
  id: string;
  op: ChangeOp;
  schema: string;
  table: string;
  keyKind: KeyKind;
  /** Primary key values (text form), or null for entries that are not about one row. */
  pk: RowImage | null;
  columns: ColumnDef[];
  before: RowImage | null;
  after: RowImage | null;
  /** For updates: the columns whose text form changed. */
  changed: string[];
  tx: TransactionRef;
  actor: Actor;
  action?: ActionDetail;
  schemaChange?: SchemaChange;
}

/** An event as stored: after the audit rules, linked into the hash chain. */
export interface AuditEntry extends ChangeEvent {
  prevHash: string;
  hash: string;
  /** Days the store keeps this entry; 0 keeps it forever. Not part of the hash. */
  retentionDays: number;
  /** Set by the matching rule; not part of the hash. */
  critical: boolean;
  /**
   * Partition of the Kafka changes topic the entry came through (distributed mode); absent means
   * 0, as in standalone mode. With retentionDays it names the entry's chain. Not part of the hash.
   */
  partition?: number;
}
