import { alertId } from './alert-id.js';
import {
  mergeSummary,
  summaryOf,
  type ActorWindowState,
  type DeletionSummary,
  type OpenWindowAlert,
  type WindowBucket,
  type WindowDeletion,
  type WindowRule,
} from './window-state.js';

/**
 * The bulk-deletion rule as a pure step: one actor's deletion in, the new window state and what
 * happened out. More than `threshold` rows within `windowMs` of commit time raise one alert; while
 * the actor goes on deleting (each deletion within `windowMs` of the alert's last one), deletions
 * grow that alert instead of raising new ones. A gap longer than the window closes it, and so
 * does an acknowledgement (releaseAlert): the next alert needs `threshold` new rows.
 */
export type WindowOutcome =
  | { kind: 'below' }
  | { kind: 'opened'; alert: OpenWindowAlert }
  | { kind: 'grew'; alert: OpenWindowAlert };

export interface WindowStep {
  state: ActorWindowState;
  outcome: WindowOutcome;
}

export function emptyWindowState(): ActorWindowState {
  return { revision: 0, buckets: [], open: null };
}

/**
 * `key` names the actor and table group; it seeds the alert id, so a replay finds the same id.
 * The step updates `previous` in place and returns it (a window holds up to W*60 buckets: copying
 * them on every deletion cost more than the rest of the step).
 */
export function addDeletion(previous: ActorWindowState | null, key: string, deletion: WindowDeletion, rule: WindowRule, nowMs = Date.now()): WindowStep {
  const state = previous ?? emptyWindowState();
  if (rule.threshold === 0) return { state, outcome: { kind: 'below' } };
  state.revision++;

  if (state.open && deletion.atMs - state.open.lastAtMs <= rule.windowMs) {
    mergeSummary(state.open, summaryOf(deletion));
    state.open.version++;
    return { state, outcome: { kind: 'grew', alert: state.open } };
  }
  if (state.open) {
    // The actor stopped for longer than a window: that alert's burst is over.
    state.open = null;
    state.buckets = [];
  }

  const second = Math.floor(deletion.atMs / 1000);
  const newest = state.buckets.at(-1);
  if (newest?.second === second) mergeSummary(newest, summaryOf(deletion));
  else {
    const bucket = state.buckets.find((candidate) => candidate.second === second);
    if (bucket) mergeSummary(bucket, summaryOf(deletion));
    else {
      state.buckets.push({ second, ...summaryOf(deletion) });
      // Out of commit order only when several alerters share the window.
      if (newest && newest.second > second) state.buckets.sort((a, b) => a.second - b.second);
    }
  }
  const horizon = deletion.atMs - rule.windowMs;
  let expired = 0;
  while (expired < state.buckets.length && state.buckets[expired]!.lastAtMs <= horizon) expired++;
  if (expired > 0) state.buckets.splice(0, expired);

  let rows = 0;
  let allRows = false;
  for (const bucket of state.buckets) {
    rows += bucket.rows;
    allRows ||= bucket.allRows;
  }
  if (rows <= rule.threshold && !allRows) return { state, outcome: { kind: 'below' } };
  const total = combine(state.buckets)!;
  const alert: OpenWindowAlert = { ...total, id: alertId('bulk-delete', key, total.firstEntryId), version: 1, windowStartMs: total.firstAtMs, raisedAtMs: nowMs };
  state.open = alert;
  state.buckets = [];
  return { state, outcome: { kind: 'opened', alert } };
}

/** After an acknowledgement: the alert no longer absorbs deletions, and counting starts afresh. */
export function releaseAlert(state: ActorWindowState | null, alertId: string): ActorWindowState | null {
  if (!state?.open || state.open.id !== alertId) return state;
  return { revision: state.revision + 1, buckets: [], open: null };
}

/** True when nothing in the state can matter any more at `nowMs` (commit time of the newest deletion seen). */
export function windowStateExpired(state: ActorWindowState, nowMs: number, windowMs: number): boolean {
  const newest = Math.max(state.open?.lastAtMs ?? 0, ...state.buckets.map((bucket) => bucket.lastAtMs));
  return newest <= nowMs - windowMs;
}

/**
 * Merges a window kept locally while the shared store (Redis) was down into the shared one: the
 * buckets add up, and an alert raised locally stays open when the shared state has none.
 */
export function mergeWindowStates(shared: ActorWindowState | null, local: ActorWindowState): ActorWindowState {
  const merged = structuredClone(shared ?? emptyWindowState());
  merged.revision++;
  const localCopy = structuredClone(local);
  if (merged.open && localCopy.open) {
    if (merged.open.id !== localCopy.open.id) mergeSummary(merged.open, localCopy.open);
    merged.open.version = Math.max(merged.open.version, localCopy.open.version);
  } else if (localCopy.open) merged.open = localCopy.open;
  for (const bucket of localCopy.buckets) {
    const existing = merged.buckets.find((candidate) => candidate.second === bucket.second);
    if (existing) mergeSummary(existing, bucket);
    else merged.buckets.push(bucket);
  }
  merged.buckets.sort((a, b) => a.second - b.second);
  return merged;
}

function combine(buckets: readonly WindowBucket[]): DeletionSummary | null {
  if (buckets.length === 0) return null;
  const [first, ...rest] = buckets;
  const { second: _second, ...total } = structuredClone(first!);
  for (const bucket of rest) mergeSummary(total, bucket);
  return total;
}

/** A stored alert as the open alert of a window again (rebuilding windows after a restart). */
export function openAlertFromStored(alert: {
  id: string; version: number; rows: number; allRows: boolean; tables: DeletionSummary['tables']; firstCommitTime: string; lastCommitTime: string;
  firstEntryId: string; lastEntryId: string; xids: number[]; transactions: number; raisedAt: string; window: { start: string } | null;
}): OpenWindowAlert {
  return {
    id: alert.id,
    version: alert.version,
    rows: alert.rows,
    allRows: alert.allRows,
    tables: alert.tables.map((table) => ({ ...table })),
    firstAtMs: Date.parse(alert.firstCommitTime),
    lastAtMs: Date.parse(alert.lastCommitTime),
    firstCommitTime: alert.firstCommitTime,
    lastCommitTime: alert.lastCommitTime,
    firstEntryId: alert.firstEntryId,
    lastEntryId: alert.lastEntryId,
    xids: [...alert.xids],
    lastXid: alert.xids.at(-1) ?? 0,
    transactions: alert.transactions,
    windowStartMs: Date.parse(alert.window?.start ?? alert.firstCommitTime),
    raisedAtMs: Date.parse(alert.raisedAt),
  };
}
