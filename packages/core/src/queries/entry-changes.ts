import type { AuditEntry } from '../change-event.types.js';
import type { ColumnChange, RecordVersion, RestoreInfo, VersionKind } from './audit-queries.types.js';

/** The application user walaudit's restorer names in the audit context of every restore. */
export const RESTORE_ACTOR = 'walaudit-restore';

/**
 * The columns an update changed with their old and new text. `changed` says which (the reader
 * compares text forms); an entry without it (an update that changed nothing, or an older one) is
 * compared here, in the column order of the entry.
 */
export function updateChanges(entry: AuditEntry): ColumnChange[] {
  if (entry.op !== 'update' || !entry.before || !entry.after) return [];
  const before = entry.before;
  const after = entry.after;
  const names = entry.changed.length > 0
    ? entry.changed
    : [...new Set([...entry.columns.map((column) => column.name), ...Object.keys(after)])].filter((name) => before[name] !== after[name]);
  return names.map((column) => ({ column, before: before[column] ?? null, after: after[column] ?? null }));
}

/** Who restored, when walaudit's restorer wrote the entry; undefined otherwise. */
export function restoreInfo(entry: AuditEntry): RestoreInfo | undefined {
  const app = entry.actor.app;
  if (app?.user !== RESTORE_ACTOR) return undefined;
  const info: RestoreInfo = {};
  if (typeof app.requestedBy === 'string') info.requestedBy = app.requestedBy;
  if (typeof app.reason === 'string') info.reason = app.reason;
  if (typeof app.restoreJob === 'string') info.job = app.restoreJob;
  return info;
}

/** An entry of one row as a version of it: what happened and the row it left. */
export function recordVersion(entry: AuditEntry): RecordVersion {
  const restore = restoreInfo(entry);
  let kind: VersionKind;
  switch (entry.op) {
    case 'insert':
      kind = restore ? 'restored' : 'created';
      break;
    case 'update':
      kind = restore ? 'reverted' : 'updated';
      break;
    case 'truncate':
      kind = 'truncated';
      break;
    default:
      kind = 'deleted';
  }
  const version: RecordVersion = {
    kind,
    entry,
    row: entry.op === 'insert' || entry.op === 'update' ? entry.after : null,
    changes: updateChanges(entry),
  };
  if (restore) version.restore = restore;
  return version;
}
