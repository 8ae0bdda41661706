import { alertId } from './alert-id.js';
import { ALERT_SAMPLE_LIMIT } from './alert.types.js';
import type { RowImage } from '../change-event.types.js';
import type { DeletionTally } from './deletion-tally.js';
import { mergeSummary, summaryOf, type DeletionSummary } from './window-state.js';

export interface OpenCriticalAlert extends DeletionSummary {
  id: string;
  version: number;
  xid: number;
  keys: RowImage[];
  raisedAtMs: number;
}

export type CriticalOutcome = { kind: 'opened' | 'grew'; alert: OpenCriticalAlert };

const KEEP = 64;

/**
 * One alert per transaction per critical table. A transaction's deletions may come in several
 * batches (and several statements): they grow the same alert. Transactions arrive in commit
 * order, so only the last few need remembering.
 */
export class CriticalDeletions {
  private readonly open = new Map<string, OpenCriticalAlert>();

  add(tally: DeletionTally, nowMs = Date.now()): CriticalOutcome {
    const name = `${tally.commitLsnKey}|${tally.deletion.table}`;
    const existing = this.open.get(name);
    if (existing) {
      mergeSummary(existing, summaryOf(tally.deletion));
      for (const key of tally.keys) if (existing.keys.length < ALERT_SAMPLE_LIMIT) existing.keys.push(key);
      existing.version++;
      return { kind: 'grew', alert: existing };
    }
    const alert: OpenCriticalAlert = {
      ...summaryOf(tally.deletion),
      id: criticalAlertId(tally.commitLsnKey, tally.deletion.table),
      version: 1,
      xid: tally.deletion.xid,
      keys: [...tally.keys],
      raisedAtMs: nowMs,
    };
    this.open.set(name, alert);
    if (this.open.size > KEEP) this.open.delete(this.open.keys().next().value!);
    return { kind: 'opened', alert };
  }
}

/** Stable for a transaction (commit LSN) and table, so a replay finds the alert already stored. */
export function criticalAlertId(commitLsnKey: string, table: string): string {
  return alertId('critical-table', table, commitLsnKey);
}
