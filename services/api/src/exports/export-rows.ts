import { canonicalJson, type AuditEntry } from '@walaudit/core';

/**
 * The CSV columns, in order, as a DBA or an auditor reads them: when and what (time, table, op,
 * key), who and from where (the application's user, the database user, the client address, the
 * application), where in the WAL (xid, LSN), why (the cascade parent, the reason the application
 * gave), the row before and after, and the chain links that prove it. Row images and keys are
 * canonical JSON (the encoding the hash covers: sorted keys, one line), so a cell compares as text.
 */
export const CSV_COLUMNS = [
  'id',
  'commit_time',
  'table',
  'op',
  'primary_key',
  'app_user',
  'db_user',
  'client_ip',
  'application',
  'reason',
  'xid',
  'lsn',
  'cascade_parent',
  'changed_columns',
  'before',
  'after',
  'detail',
  'prev_hash',
  'hash',
] as const;

export type CsvColumn = (typeof CSV_COLUMNS)[number];

/** The address of the session: the connection's, else the one the application sent. */
export function clientIpOf(entry: AuditEntry): string {
  return entry.actor.db?.ip ?? (typeof entry.actor.app?.ip === 'string' ? entry.actor.app.ip : '');
}

/** Who did it, as one name: the application's user, else the database user. */
export function actorOf(entry: AuditEntry): string {
  const app = entry.actor.app?.user;
  return typeof app === 'string' && app !== '' ? app : (entry.actor.db?.user ?? '');
}

const json = (value: unknown): string => (value === null || value === undefined ? '' : canonicalJson(value));

/**
 * One entry as one CSV record, in CSV_COLUMNS order. Absent values are empty cells (an empty
 * `before` is an insert's, never the JSON `null`). `detail` holds what an entry that is not about a
 * row says: the action an application recorded, or the table's columns after a schema change.
 */
export function csvRecord(entry: AuditEntry, cascadeParent: string | undefined): string[] {
  const reason = entry.actor.app?.reason;
  return [
    entry.id,
    entry.tx.commitTime,
    `${entry.schema}.${entry.table}`,
    entry.op,
    json(entry.pk),
    typeof entry.actor.app?.user === 'string' ? entry.actor.app.user : '',
    entry.actor.db?.user ?? '',
    clientIpOf(entry),
    entry.actor.db?.applicationName ?? '',
    typeof reason === 'string' ? reason : '',
    String(entry.tx.xid),
    entry.tx.lsn,
    cascadeParent ?? '',
    entry.changed.length > 0 ? entry.changed.join(',') : '',
    json(entry.before),
    json(entry.after),
    json(entry.action ?? entry.schemaChange),
    entry.prevHash,
    entry.hash,
  ];
}

/** A key as `col=value, col=value`, for people (the PDF); `(no key)` for an entry about no row. */
export function keyInWords(pk: AuditEntry['pk']): string {
  if (!pk) return '';
  return Object.entries(pk)
    .map(([column, value]) => `${column}=${value ?? 'NULL'}`)
    .join(', ');
}
