import type { LogPositionKey } from '../queries/log-cursor.js';

/** The log position an entry id (`<commit LSN as 16 hex digits>-<seq>`) stands for; null for anything else. */
export function parseEventId(id: string): LogPositionKey | null {
  const match = /^([0-9A-Fa-f]{16})-(\d+)$/.exec(id);
  return match ? { lsn: BigInt(`0x${match[1]}`), seq: Number(match[2]) } : null;
}

export function comparePositionKeys(a: LogPositionKey, b: LogPositionKey): number {
  if (a.lsn !== b.lsn) return a.lsn < b.lsn ? -1 : 1;
  return a.seq - b.seq;
}
