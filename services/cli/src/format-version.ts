import type { RecordVersion } from '@walaudit/core';
import { describeActor } from './format-entry.js';

/** One version of a row for a terminal: when, how it came about, who, what changed, the entry id. */
export function formatVersion(version: RecordVersion): string {
  const { entry } = version;
  const parts = [entry.tx.commitTime.replace('T', ' ').replace('Z', ''), version.kind.toUpperCase().padEnd(9)];
  const who = describeActor(entry);
  if (who) parts.push(`by ${who}`);
  if (version.restore) parts.push(`restore${version.restore.requestedBy ? ` asked by ${version.restore.requestedBy}` : ''}${version.restore.job ? ` (job ${version.restore.job})` : ''}`);
  if (version.changes.length > 0) parts.push(version.changes.map((change) => `${change.column}: ${change.before ?? 'NULL'} -> ${change.after ?? 'NULL'}`).join(', '));
  else if (version.row) parts.push(Object.entries(version.row).map(([column, value]) => `${column}=${value ?? 'NULL'}`).join(' '));
  parts.push(`xid ${entry.tx.xid}`, `id ${entry.id}`);
  return parts.join('  ');
}
