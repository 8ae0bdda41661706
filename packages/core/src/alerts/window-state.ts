import { ALERT_SAMPLE_LIMIT, type AlertTableCount } from './alert.types.js';

/**
 * The sliding-window state of one actor (and table group), as plain JSON so that the same state
 * lives in memory or in Redis. Deletions are summed per second of commit time: a window holds at
 * most `windowMinutes * 60` buckets whatever the number of rows or transactions, and an open alert
 * keeps counts, the first and last entry ids and the first 20 transaction ids, never every row.
 */

/** One transaction's deletions on one table, from one actor (a batch of a big DELETE is one too). */
export interface WindowDeletion {
  /** Commit time in ms since the epoch (the sliding window follows commit times, not the clock). */
  atMs: number;
  commitTime: string;
  table: string;
  rows: number;
  /** A counted TRUNCATE: "all rows" of the table. */
  allRows: boolean;
  xid: number;
  firstEntryId: string;
  lastEntryId: string;
}

export interface WindowRule {
  /** More than this many rows in the window raises an alert; 0 never does. */
  threshold: number;
  windowMs: number;
}

/** What an alert has counted so far; the same shape in a bucket and in an open alert. */
export interface DeletionSummary {
  rows: number;
  allRows: boolean;
  tables: AlertTableCount[];
  firstAtMs: number;
  lastAtMs: number;
  firstCommitTime: string;
  lastCommitTime: string;
  firstEntryId: string;
  lastEntryId: string;
  xids: number[];
  /** The newest transaction counted: the batches of one transaction arrive one after another. */
  lastXid: number;
  transactions: number;
}

export interface WindowBucket extends DeletionSummary {
  second: number;
}

export interface OpenWindowAlert extends DeletionSummary {
  id: string;
  /** Update counter of the alert: 1 when raised. */
  version: number;
  windowStartMs: number;
  /** Wall-clock time the alert was raised, ms. */
  raisedAtMs: number;
}

export interface ActorWindowState {
  /** Changes on every update: Redis compares it to apply updates atomically. */
  revision: number;
  buckets: WindowBucket[];
  open: OpenWindowAlert | null;
}

export function summaryOf(deletion: WindowDeletion): DeletionSummary {
  return {
    rows: deletion.rows,
    allRows: deletion.allRows,
    tables: [{ table: deletion.table, rows: deletion.rows, allRows: deletion.allRows }],
    firstAtMs: deletion.atMs,
    lastAtMs: deletion.atMs,
    firstCommitTime: deletion.commitTime,
    lastCommitTime: deletion.commitTime,
    firstEntryId: deletion.firstEntryId,
    lastEntryId: deletion.lastEntryId,
    xids: [deletion.xid],
    lastXid: deletion.xid,
    transactions: 1,
  };
}

/**
 * Adds `next` into `into` (mutates it). Batches of one transaction share its xid, so a
 * transaction is counted once however many batches it arrives in.
 */
export function mergeSummary(into: DeletionSummary, next: DeletionSummary): void {
  into.rows += next.rows;
  into.allRows ||= next.allRows;
  for (const table of next.tables) {
    const existing = into.tables.find((candidate) => candidate.table === table.table);
    if (existing) {
      existing.rows += table.rows;
      existing.allRows ||= table.allRows;
    } else into.tables.push({ ...table });
  }
  if (next.firstAtMs < into.firstAtMs || (next.firstAtMs === into.firstAtMs && compareEntryIds(next.firstEntryId, into.firstEntryId) < 0)) {
    into.firstAtMs = next.firstAtMs;
    into.firstCommitTime = next.firstCommitTime;
  }
  if (compareEntryIds(next.firstEntryId, into.firstEntryId) < 0) into.firstEntryId = next.firstEntryId;
  if (next.lastAtMs >= into.lastAtMs) {
    into.lastAtMs = next.lastAtMs;
    into.lastCommitTime = next.lastCommitTime;
  }
  if (compareEntryIds(next.lastEntryId, into.lastEntryId) > 0) into.lastEntryId = next.lastEntryId;
  for (const xid of next.xids) {
    if (into.xids.includes(xid) || xid === into.lastXid) continue;
    into.transactions++;
    if (into.xids.length < ALERT_SAMPLE_LIMIT) into.xids.push(xid);
  }
  // Transactions beyond next's sample were distinct within it; they are counted, not listed.
  into.transactions += Math.max(0, next.transactions - next.xids.length);
  into.lastXid = next.lastXid;
}

/** Entry ids are `<16 hex LSN>-<seq>`: compare the LSN as text (fixed width), the seq as a number. */
export function compareEntryIds(a: string, b: string): number {
  const dashA = a.lastIndexOf('-');
  const dashB = b.lastIndexOf('-');
  const lsnA = a.slice(0, dashA);
  const lsnB = b.slice(0, dashB);
  if (lsnA !== lsnB) return lsnA < lsnB ? -1 : 1;
  return Number(a.slice(dashA + 1)) - Number(b.slice(dashB + 1));
}
