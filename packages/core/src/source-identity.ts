import { WalauditError } from './errors.js';

/**
 * Which Postgres database an audit trail belongs to: the server's system identifier (fixed at
 * initdb, kept by physical replicas and backups) and the database name. LSNs only order the changes
 * of one server, and the writer drops anything at or below the newest stored position as a replay;
 * a store fed by a second source would silently drop that source's earlier-positioned changes.
 */
export interface SourceIdentity {
  systemId: string;
  database: string;
}

export function describeSource(identity: SourceIdentity): string {
  return `database "${identity.database}" of the Postgres server with system identifier ${identity.systemId}`;
}

/** Null when `current` may write to a store that recorded `stored` (or nothing yet). */
export function sourceMismatch(stored: SourceIdentity | null, current: SourceIdentity, storeLabel: string): WalauditError | null {
  if (stored === null) return null;
  if (stored.systemId === current.systemId && stored.database === current.database) return null;
  return new WalauditError(
    'STORE_OTHER_SOURCE',
    `${storeLabel} holds the audit trail of ${describeSource(stored)}, but this walaudit reads ${describeSource(current)}. ` +
      'One store holds one source: give this source its own store (--data-dir, or store.database on a ClickHouse server), ' +
      'or point walaudit back at the database the store was made for.',
  );
}
