import { createHash } from 'node:crypto';

/** 12 hex digits of SHA-256: short enough to type in `walaudit alerts ack`, stable across replays. */
export function alertId(kind: string, key: string, firstEntryId: string): string {
  return createHash('sha256').update(`${kind}\u0000${key}\u0000${firstEntryId}`).digest('hex').slice(0, 12);
}
