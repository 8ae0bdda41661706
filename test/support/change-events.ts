import { eventId, formatLsn, type Actor, type AuditedEvent, type ChangeEvent, type ColumnDef, type Lsn, type RowImage, type RowOp } from '@walaudit/core';

/** A row change of a scripted transaction; the key columns default to `id`. */
export interface RowChange {
  op: RowOp;
  table: string;
  schema?: string;
  before?: RowImage | null;
  after?: RowImage | null;
  /** Primary-key columns; their values come from `before` (deletes, updates) or `after`. */
  key?: string[];
  /** Column types by name (`integer`, `text`...); a column not named is `text`. */
  types?: Record<string, string>;
}

export interface TransactionSpec {
  /** Commit LSN. */
  lsn: Lsn | number;
  xid?: number;
  /** ISO 8601 UTC, microseconds; default a fixed time. */
  commitTime?: string;
  actor?: Actor;
}

export const COMMIT_TIME = '2026-03-02T10:00:00.000000Z';

/**
 * The events the reader decodes for one transaction: ids `<16 hex commit LSN>-<seq>`, seq from 0
 * in the order given, the transaction's actor on each.
 */
export function transactionEvents(spec: TransactionSpec, changes: readonly RowChange[]): ChangeEvent[] {
  const lsn = BigInt(spec.lsn);
  const tx = { xid: spec.xid ?? Number(lsn % 1_000_000n), lsn: formatLsn(lsn), commitTime: spec.commitTime ?? COMMIT_TIME };
  return changes.map((change, seq): ChangeEvent => {
    const before = change.before ?? null;
    const after = change.after ?? null;
    const image = before ?? after ?? {};
    const key = change.key ?? ['id'];
    const columns: ColumnDef[] = Object.keys(image).map((name) => ({ name, type: change.types?.[name] ?? 'text', typeOid: 0 }));
    const changed = before && after ? Object.keys(after).filter((name) => after[name] !== before[name]) : [];
    return {
      id: eventId(lsn, seq),
      op: change.op,
      schema: change.schema ?? 'public',
      table: change.table,
      keyKind: 'primary-key',
      pk: change.op === 'truncate' ? null : Object.fromEntries(key.map((name) => [name, image[name] ?? null])),
      columns: change.op === 'truncate' ? [] : columns,
      before: change.op === 'insert' ? null : before,
      after: change.op === 'delete' ? null : after,
      changed,
      tx: { ...tx, seq },
      actor: spec.actor ?? {},
    };
  });
}

/** `rows` deletes of `table` (ids 1..rows) in one transaction: a bulk DELETE. */
export function bulkDelete(spec: TransactionSpec, table: string, rows: number, schema = 'public'): ChangeEvent[] {
  return transactionEvents(
    spec,
    Array.from({ length: rows }, (_, i) => ({ op: 'delete' as const, table, schema, before: { id: String(i + 1), note: `row ${i + 1}` } })),
  );
}

/** Events as the audit writer hands them to its observers when no rule applies: kept 90 days, not critical. */
export function audited(events: readonly ChangeEvent[], retentionDays = 90, critical = false): AuditedEvent[] {
  return events.map((event) => ({ event, retentionDays, critical }));
}

/** An application user as withAuditContext names one. */
export function appUser(user: string): Actor {
  return { app: { user } };
}
