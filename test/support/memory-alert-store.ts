import { resolveAlertActor, type Alert, type AlertKind, type AlertQuery, type AlertStore, type AuditEntry, type StoredDeletion } from '@walaudit/core';
import type { MemoryAuditStore } from './memory-audit-store.js';

/**
 * An AlertStore in memory, beside a MemoryAuditStore (the deletions and the newest commit time
 * are read from its entries, as ClickHouse reads them from audit_log). Like the alerts table,
 * versions are appended, never changed: an alert's state is its newest version (by version, then
 * updatedAt), and once any version is acknowledged the alert stays acknowledged, even when an
 * update raced the acknowledgement and was written after it.
 */
export class MemoryAlertStore implements AlertStore {
  /** Every version saved, in save order (copies: JSON round-tripped, as stored). */
  readonly versions: Alert[] = [];
  /** Calls of saveAlerts, failed ones included. */
  saveCalls = 0;
  private readonly failures: unknown[] = [];

  constructor(private readonly audit?: MemoryAuditStore) {}

  /** The next `times` saves reject with `error` and store nothing. */
  failSaves(error: unknown, times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push(error);
  }

  async saveAlerts(alerts: readonly Alert[]): Promise<void> {
    this.saveCalls++;
    if (this.failures.length > 0) throw this.failures.shift();
    for (const alert of alerts) this.versions.push(JSON.parse(JSON.stringify(alert)) as Alert);
  }

  async listAlerts(query: AlertQuery): Promise<Alert[]> {
    const ids = query.ids && query.ids.length > 0 ? new Set(query.ids) : null;
    const groups = latestVersions(this.versions.filter((version) => !ids || ids.has(version.id)));
    const limit = Math.max(0, Math.min(100_000, Math.floor(query.limit)));
    return groups.filter((group) => !query.open || !group.acked).map((group) => group.alert).slice(0, limit);
  }

  async recentAlerts(since: string): Promise<Alert[]> {
    // As in SQL, the versions are filtered before the newest of each alert is taken.
    const from = Date.parse(since);
    return latestVersions(this.versions.filter((version) => Date.parse(version.lastCommitTime) >= from)).map((group) => group.alert);
  }

  async recentDeletions(since: string): Promise<StoredDeletion[]> {
    const from = Date.parse(since);
    const groups = new Map<string, { entries: AuditEntry[] }>();
    for (const entry of this.audit?.entries() ?? []) {
      if ((entry.op !== 'delete' && entry.op !== 'truncate') || Date.parse(entry.tx.commitTime) < from) continue;
      const actor = resolveAlertActor(entry.actor);
      const key = JSON.stringify([entry.schema, entry.table, entry.op, entry.tx.xid, actor.appUser ?? '', actor.dbUser ?? '', actor.traceId ?? '']);
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { entries: [] }));
      group.entries.push(entry);
    }
    // Entries come in log order, so groups are in the order of their first entry.
    return [...groups.values()].map(({ entries }): StoredDeletion => {
      const first = entries[0]!;
      const last = entries.at(-1)!;
      const actor = resolveAlertActor(first.actor);
      return {
        actor,
        table: `${first.schema}.${first.table}`,
        schema: first.schema,
        tableName: first.table,
        op: first.op as 'delete' | 'truncate',
        xid: first.tx.xid,
        commitTime: entries.map((entry) => entry.tx.commitTime).sort()[0]!,
        rows: entries.length,
        firstEntryId: first.id,
        lastEntryId: last.id,
        critical: entries.some((entry) => entry.critical),
        keys: entries.slice(0, 20).flatMap((entry) => (entry.pk ? [entry.pk] : [])),
      };
    });
  }

  async newestCommitTime(): Promise<string | null> {
    const times = (this.audit?.entries() ?? []).filter((entry) => entry.op !== 'action').map((entry) => entry.tx.commitTime);
    return times.length === 0 ? null : times.sort().at(-1)!;
  }

  async openAlertCounts(): Promise<Partial<Record<AlertKind, number>>> {
    const counts: Partial<Record<AlertKind, number>> = {};
    for (const { alert, acked } of latestVersions(this.versions)) if (!acked) counts[alert.kind] = (counts[alert.kind] ?? 0) + 1;
    return counts;
  }
}

/** The newest version of each alert, acknowledged if any version is; newest raised first, then by id. */
function latestVersions(versions: readonly Alert[]): { alert: Alert; acked: boolean }[] {
  const byId = new Map<string, { latest: Alert; acked: Alert | null; raisedAt: string }>();
  for (const version of versions) {
    const group = byId.get(version.id);
    if (!group) {
      byId.set(version.id, { latest: version, acked: version.status === 'acknowledged' ? version : null, raisedAt: version.raisedAt });
      continue;
    }
    if (newer(version, group.latest)) group.latest = version;
    if (version.status === 'acknowledged' && (!group.acked || newer(version, group.acked))) group.acked = version;
    if (version.raisedAt > group.raisedAt) group.raisedAt = version.raisedAt;
  }
  return [...byId.values()]
    .sort((a, b) => (a.raisedAt === b.raisedAt ? (a.latest.id < b.latest.id ? -1 : 1) : a.raisedAt > b.raisedAt ? -1 : 1))
    .map((group) => {
      const alert = JSON.parse(JSON.stringify(group.latest)) as Alert;
      if (group.acked) {
        alert.status = 'acknowledged';
        alert.acknowledgement = group.acked.acknowledgement;
      }
      return { alert, acked: group.acked !== null };
    });
}

function newer(a: Alert, b: Alert): boolean {
  return a.version !== b.version ? a.version > b.version : a.updatedAt > b.updatedAt;
}
