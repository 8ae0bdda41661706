import { lsnSortKey, parseLsn, type Lsn } from './lsn.js';

/** Position of an event in the log: commit LSN, then seq within the transaction. */
export interface LogPosition {
  lsn: Lsn;
  seq: number;
}

export function eventId(commitLsn: Lsn, seq: number): string {
  return `${lsnSortKey(commitLsn)}-${seq}`;
}

let lastLsnText = '';
let lastLsn: Lsn = 0n;

export function positionOf(tx: { lsn: string; seq: number }): LogPosition {
  // The events of a transaction share one LSN: parse it once, not once per row.
  if (tx.lsn !== lastLsnText) {
    lastLsn = parseLsn(tx.lsn);
    lastLsnText = tx.lsn;
  }
  return { lsn: lastLsn, seq: tx.seq };
}

export function comparePositions(a: LogPosition, b: LogPosition): number {
  if (a.lsn !== b.lsn) return a.lsn < b.lsn ? -1 : 1;
  return a.seq - b.seq;
}
