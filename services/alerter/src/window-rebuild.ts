import {
  alertWindowKey,
  BulkDeleteWindow,
  windowKey,
  windowOwner,
  compareEntryIds,
  criticalAlertId,
  openAlertFromStored,
  type Alert,
  type AlertPolicy,
  type AlertsConfig,
  type AlertStore,
  type DeletionTally,
  type StoredDeletion,
  type WindowOutcome,
  type WindowStore, type AlertEvent } from '@walaudit/core';

export interface RebuildReport {
  /** Deletions (per transaction and table) read back from the store. */
  deletionsReplayed: number;
  /** Open alerts found in the store and absorbing deletions again. */
  alertsRestored: number;
  /** Alerts or updates the crash had kept from being stored and sent, now raised. */
  missedAlerts: number;
}

type Changed = Map<string, { alert: Alert; event: AlertEvent }>;

export interface RebuildDeps {
  config: AlertsConfig;
  policy: AlertPolicy;
  alertStore: AlertStore;
  windows: WindowStore;
  countTally(tally: DeletionTally, changed: Changed, outcomeOf: (tally: DeletionTally) => Promise<WindowOutcome>): Promise<void>;
  publish(changed: Changed): Promise<void>;
  log: { info(line: string): void };
}

/**
 * After a restart the in-memory windows are empty, and the writer drops what the slot replays
 * (it is stored already), so a crash between storing a batch and alerting on it would lose the
 * alert. Instead, the deletions stored within the longest window before the newest entry are read
 * back and counted again, starting from the alerts stored for them:
 * - a stored bulk alert (not acknowledged) is open again, and deletions up to its last entry are
 *   not counted twice; deletions after it grow it (a missed update);
 * - an alert the replay raises that is not stored is one the crash lost: it is stored and sent;
 *   ids derive from what raised them, so an alert already stored is recognised and not sent again.
 * With Redis the shared windows survive restarts: the replay runs in a scratch window only to find
 * lost alerts, leaving the shared counts alone.
 */
export async function rebuildWindows(deps: RebuildDeps): Promise<RebuildReport> {
  const report: RebuildReport = { deletionsReplayed: 0, alertsRestored: 0, missedAlerts: 0 };
  const newest = await deps.alertStore.newestCommitTime();
  if (!newest) return report;
  const longestMs = Math.max(deps.config.windowMinutes, ...deps.config.tables.map((override) => override.windowMinutes ?? 0)) * 60_000;
  const since = new Date(Date.parse(newest) - longestMs).toISOString();
  const stored = await deps.alertStore.recentAlerts(since);
  const known = new Set(stored.map((alert) => alert.id));
  const window = deps.windows instanceof BulkDeleteWindow ? deps.windows : new BulkDeleteWindow();

  const countedUpTo = new Map<string, string>();
  for (const alert of stored) {
    const key = alertWindowKey(alert, deps.policy);
    if (!key) continue;
    const table = alert.tables[0]!.table;
    const tablePolicy = deps.policy.forTable(table.slice(0, table.indexOf('.')), table.slice(table.indexOf('.') + 1), false);
    const previous = countedUpTo.get(key);
    if (!previous || compareEntryIds(alert.lastEntryId, previous) > 0) countedUpTo.set(key, alert.lastEntryId);
    if (alert.status === 'acknowledged') continue;
    window.seed(key, { revision: 0, buckets: [], open: openAlertFromStored(alert) }, tablePolicy.rule.windowMs);
    report.alertsRestored++;
  }

  const changed: Changed = new Map();
  for (const deletion of await deps.alertStore.recentDeletions(since)) {
    const tally = tallyOf(deletion, deps.policy);
    if (!tally) continue;
    report.deletionsReplayed++;
    if (tally.policy.critical && known.has(criticalAlertId(tally.commitLsnKey, tally.deletion.table))) tally.policy = { ...tally.policy, critical: false };
    const upTo = countedUpTo.get(tally.windowKey);
    const counted = upTo !== undefined && compareEntryIds(tally.deletion.lastEntryId, upTo) <= 0;
    await deps.countTally(tally, changed, async (t) => (counted ? { kind: 'below' } : window.addNow(t.windowKey, t.deletion, t.policy.rule)));
  }
  for (const [id, entry] of changed) {
    if (entry.event === 'raised' && known.has(id)) changed.delete(id);
  }
  report.missedAlerts = changed.size;
  await deps.publish(changed);
  if (report.deletionsReplayed > 0) {
    deps.log.info(`alert windows rebuilt from ${report.deletionsReplayed} stored deletions since ${since}: ${report.alertsRestored} open alerts restored, ${report.missedAlerts} missed alerts or updates raised now`);
  }
  return report;
}

function tallyOf(deletion: StoredDeletion, policy: AlertPolicy): DeletionTally | null {
  const truncate = deletion.op === 'truncate';
  if (!policy.enabled || (truncate && !policy.countsTruncate) || policy.excluded(deletion.actor)) return null;
  const tablePolicy = policy.forTable(deletion.schema, deletion.tableName, deletion.critical);
  return {
    actor: deletion.actor,
    windowKey: windowKey(windowOwner(deletion.actor, policy.countBy), tablePolicy.group),
    policy: tablePolicy,
    deletion: {
      atMs: Date.parse(deletion.commitTime),
      commitTime: deletion.commitTime,
      table: deletion.table,
      rows: truncate ? 0 : deletion.rows,
      allRows: truncate,
      xid: deletion.xid,
      firstEntryId: deletion.firstEntryId,
      lastEntryId: deletion.lastEntryId,
    },
    commitLsnKey: deletion.firstEntryId.slice(0, deletion.firstEntryId.lastIndexOf('-')),
    keys: tablePolicy.critical ? deletion.keys : [],
  };
}
