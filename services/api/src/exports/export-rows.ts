import type { AuditEntry } from '@walaudit/core';

/** The address of the session: the connection's, else the one the application sent. */
export function clientIpOf(entry: AuditEntry): string {
  return entry.actor.db?.ip ?? (typeof entry.actor.app?.ip === 'string' ? entry.actor.app.ip : '');
}

/** Who did it, as one name: the application's user, else the database user. */
export function actorOf(entry: AuditEntry): string {
  const app = entry.actor.app?.user;
  return typeof app === 'string' && app !== '' ? app : (entry.actor.db?.user ?? '');
}

/** A key as `col=value, col=value`, for people (the PDF); `(no key)` for an entry about no row. */
export function keyInWords(pk: AuditEntry['pk']): string {
  if (!pk) return '';
  return Object.entries(pk)
    .map(([column, value]) => `${column}=${value ?? 'NULL'}`)
    .join(', ');
}
