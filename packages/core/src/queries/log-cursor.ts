import { WalauditError } from '../errors.js';

/** A position in log order: the commit LSN and the entry's place in its transaction. */
export interface LogPositionKey {
  lsn: bigint;
  seq: number;
}

const PREFIX = 'p1.';

/**
 * The cursor of a page: the log position of its last entry, versioned so its form may change.
 * Opaque to callers; not secret (it holds nothing the entries do not show).
 */
export function encodeCursor(position: LogPositionKey): string {
  return PREFIX + Buffer.from(`${position.lsn.toString(16)}:${position.seq}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): LogPositionKey {
  const bad = () => new WalauditError('CONFIG_INVALID', `filter cursor: "${cursor.slice(0, 40)}" is not a cursor this API returned (start again without one)`);
  if (!cursor.startsWith(PREFIX)) throw bad();
  const text = Buffer.from(cursor.slice(PREFIX.length), 'base64url').toString('utf8');
  const match = /^([0-9a-f]{1,16}):(\d{1,10})$/.exec(text);
  if (!match) throw bad();
  const seq = Number(match[2]);
  if (seq > 0xffff_ffff) throw bad();
  return { lsn: BigInt(`0x${match[1]}`), seq };
}

/** The position an entry id names (`<16 hex commit LSN>-<seq>`). */
export function positionOfEntryId(id: string): LogPositionKey {
  const match = /^([0-9A-Fa-f]{1,16})-(\d{1,10})$/.exec(id);
  if (!match || Number(match[2]) > 0xffff_ffff) {
    throw new WalauditError('CONFIG_INVALID', `"${id}" is not an entry id (expected <16 hex digits>-<seq>, as \`walaudit log\` prints)`);
  }
  return { lsn: BigInt(`0x${match[1]}`), seq: Number(match[2]) };
}
