import type { AuditEntry } from '@walaudit/core';

/** One line per entry for a terminal: when, what, which row, who, from where, and the id to act on. */
export function formatEntry(entry: AuditEntry): string {
  const when = entry.tx.commitTime.replace('T', ' ').replace('Z', '');
  const what = entry.op === 'action' ? `ACTION ${entry.action?.name ?? ''}` : entry.op.toUpperCase();
  const table = entry.table ? `${entry.schema}.${entry.table}` : '-';
  const key = entry.pk ? Object.entries(entry.pk).map(([name, value]) => `${name}=${value ?? 'NULL'}`).join(',') : '';
  const parts = [when, what.padEnd(8), table, key];
  const who = describeActor(entry);
  if (who) parts.push(`by ${who}`);
  if (entry.op === 'update' && entry.changed.length > 0) parts.push(`changed ${entry.changed.join(',')}`);
  if (entry.op === 'schema') parts.push(`columns ${entry.changed.join(',')}`);
  if (entry.actor.traceId) parts.push(`trace ${entry.actor.traceId}`);
  parts.push(`xid ${entry.tx.xid}`, `id ${entry.id}`);
  return parts.filter(Boolean).join('  ');
}

export function describeActor(entry: AuditEntry): string {
  const { app, db } = entry.actor;
  const pieces: string[] = [];
  if (app?.user) pieces.push(`${String(app.user)}${app.ip ? `@${String(app.ip)}` : ''}`);
  if (db) {
    const where = db.ip ? `@${db.ip}` : '@local';
    pieces.push(`${app?.user ? 'db ' : ''}${db.user}${where}${db.applicationName ? ` (${db.applicationName})` : ''}`);
  }
  if (app?.reason) pieces.push(`reason: ${String(app.reason)}`);
  return pieces.join(', ');
}
