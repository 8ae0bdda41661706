import type { Alert, AlertActor, IntegrityDetail, SlotLossDetail } from './alert.types.js';
import { alertId } from './alert-id.js';
import type { OpenCriticalAlert } from './critical-deletions.js';
import type { OpenWindowAlert, WindowRule } from './window-state.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** The alert as stored and sent, from the window's open alert. */
export function bulkDeleteAlert(open: OpenWindowAlert, actor: AlertActor, rule: WindowRule, nowMs = Date.now()): Alert {
  return {
    id: open.id,
    kind: 'bulk-delete',
    version: open.version,
    status: 'open',
    actor,
    tables: open.tables.map((table) => ({ ...table })),
    rows: open.rows,
    allRows: open.allRows,
    window: { minutes: rule.windowMs / 60_000, threshold: rule.threshold, start: iso(open.windowStartMs) },
    xid: null,
    xids: [...open.xids],
    transactions: open.transactions,
    firstCommitTime: open.firstCommitTime,
    lastCommitTime: open.lastCommitTime,
    firstEntryId: open.firstEntryId,
    lastEntryId: open.lastEntryId,
    keys: [],
    raisedAt: iso(open.raisedAtMs),
    updatedAt: iso(nowMs),
    acknowledgement: null,
  };
}

export function criticalTableAlert(open: OpenCriticalAlert, actor: AlertActor, nowMs = Date.now()): Alert {
  return {
    id: open.id,
    kind: 'critical-table',
    version: open.version,
    status: 'open',
    actor,
    tables: open.tables.map((table) => ({ ...table })),
    rows: open.rows,
    allRows: open.allRows,
    window: null,
    xid: open.xid,
    xids: [open.xid],
    transactions: 1,
    firstCommitTime: open.firstCommitTime,
    lastCommitTime: open.lastCommitTime,
    firstEntryId: open.firstEntryId,
    lastEntryId: open.lastEntryId,
    keys: open.keys.map((key) => ({ ...key })),
    raisedAt: iso(open.raisedAtMs),
    updatedAt: iso(nowMs),
    acknowledgement: null,
  };
}

/**
 * An alert about walaudit's own sources rather than a transaction: no rows, tables or window, raised
 * by `actorName` (the system that reported it) at `now`.
 */
function systemAlert(kind: 'slot-lost' | 'integrity', id: string, actorName: string, now: string): Alert {
  return {
    id,
    kind,
    version: 1,
    status: 'open',
    actor: { name: actorName, appUser: null, dbUser: null, ip: null, applicationName: null },
    tables: [],
    rows: 0,
    allRows: false,
    window: null,
    xid: null,
    xids: [],
    transactions: 0,
    firstCommitTime: now,
    lastCommitTime: now,
    firstEntryId: '',
    lastEntryId: '',
    keys: [],
    raisedAt: now,
    updatedAt: now,
    acknowledgement: null,
  };
}

/**
 * The alert of a slot Postgres invalidated. Its id is stable for one loss (the slot and its last
 * confirmed position), so a start that fails again on the same loss finds it instead of paging again.
 */
export function slotLostAlert(detail: SlotLossDetail, nowMs = Date.now()): Alert {
  const id = alertId('slot-lost', `${detail.source}/${detail.slot}`, detail.confirmedLsn ?? '');
  return { ...systemAlert('slot-lost', id, 'postgres', iso(nowMs)), slotLoss: { ...detail } };
}

/**
 * The alert of a store that contradicts its signed checkpoints. Its id is stable for one finding, so
 * a start refused again on the same store finds it instead of paging again.
 */
export function integrityAlert(detail: IntegrityDetail, nowMs = Date.now()): Alert {
  const id = alertId('integrity', detail.chain, detail.message);
  return { ...systemAlert('integrity', id, 'store', iso(nowMs)), integrity: { ...detail } };
}

/** One line a human reads first (Slack `text`, e-mail subject, syslog message). */
export function alertSummary(alert: Alert): string {
  return `[walaudit] ${alertDescription(alert)}`;
}

/** alertSummary without the `[walaudit]` tag, for walaudit's own log, whose lines name it already. */
export function alertDescription(alert: Alert): string {
  if (alert.kind === 'integrity') {
    return `integrity: the store contradicts its signed checkpoints (${alert.integrity?.checkpointFile ?? '?'}): ${alert.integrity?.message ?? '?'}; walaudit refused to append; alert ${alert.id}`;
  }
  if (alert.kind === 'slot-lost') {
    const loss = alert.slotLoss;
    const why = [loss?.walStatus ? `wal_status ${loss.walStatus}` : '', loss?.invalidationReason ? `invalidation_reason ${loss.invalidationReason}` : ''].filter(Boolean).join(', ');
    return `slot lost: Postgres invalidated replication slot ${loss?.slot ?? '?'} on ${loss?.source ?? '?'}${why ? ` (${why})` : ''}; changes after ${loss?.confirmedLsn ?? 'its confirmed position'} were never audited; run walaudit setup --recreate-lost-slot; alert ${alert.id}`;
  }
  const who = `${alert.actor.name}${alert.actor.ip ? ` from ${alert.actor.ip}` : ''}${alert.actor.applicationName ? ` (${alert.actor.applicationName})` : ''}`;
  const tables = alert.tables.map((table) => `${table.table} ${table.allRows ? 'ALL rows (TRUNCATE)' : `${table.rows} rows`}`).join(', ');
  const what = alert.allRows ? (alert.rows > 0 ? `deleted ${alert.rows} rows and truncated` : 'truncated') : `deleted ${alert.rows} rows`;
  if (alert.kind === 'bulk-delete') {
    return `bulk delete: ${who} ${what} within ${alert.window!.minutes} min (threshold ${alert.window!.threshold}): ${tables}; alert ${alert.id}`;
  }
  return `critical table: ${who} ${what} in transaction ${alert.xid}: ${tables}; alert ${alert.id}`;
}
