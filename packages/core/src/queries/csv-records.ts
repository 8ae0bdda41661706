import { canonicalJson } from '../canonical-json.js';
import type { AuditEntry } from '../change-event.types.js';

/**
 * The CSV export's columns, in order, as a DBA or an auditor reads them: when and what (time,
 * table, op, key), who and from where (the application's user, the database user, the client
 * address, the application), where in the WAL (xid, LSN), why (the cascade parent, the reason the
 * application gave), the row before and after, and the chain links that prove it. Row images and
 * keys are canonical JSON (the encoding the hash covers: sorted keys, one line), so a cell
 * compares as text. The store builds these records itself for speed (ClickHouse's queries); this
 * is the reference shape, and what it falls back to for an entry it cannot shape exactly.
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

/** Where a record's cascade parent goes: the store leaves it empty, the exporter fills it. */
export const CSV_CASCADE_PARENT = CSV_COLUMNS.indexOf('cascade_parent');
export const CSV_OP = CSV_COLUMNS.indexOf('op');

const json = (value: unknown): string => (value === null || value === undefined ? '' : canonicalJson(value));

/**
 * What the application sent as text: a string as it is, any other value as its JSON (as the
 * store's actor columns, which the actor filter matches, hold it).
 */
const appText = (value: unknown): string => (typeof value === 'string' ? value : json(value));

/**
 * One entry as one CSV record, in CSV_COLUMNS order. Absent values are empty cells (an empty
 * `before` is an insert's, never the JSON `null`). `detail` holds what an entry that is not about a
 * row says: the action an application recorded, or the table's columns after a schema change.
 */
export function csvRecord(entry: AuditEntry, cascadeParent: string | undefined): string[] {
  return [
    entry.id,
    entry.tx.commitTime,
    `${entry.schema}.${entry.table}`,
    entry.op,
    json(entry.pk),
    appText(entry.actor.app?.user),
    entry.actor.db?.user ?? '',
    entry.actor.db?.ip || appText(entry.actor.app?.ip),
    entry.actor.db?.applicationName ?? '',
    appText(entry.actor.app?.reason),
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
