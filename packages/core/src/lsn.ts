import { WalauditError } from './errors.js';

/**
 * A WAL position. Postgres prints it as two hex halves (`0/1796738`); the replication library
 * hands out both padded and unpadded forms, so every LSN is normalised through here once.
 */
export type Lsn = bigint;

export function parseLsn(text: string): Lsn {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim());
  if (!match) throw new WalauditError('MALFORMED_MESSAGE', `"${text}" is not a WAL position (expected X/Y in hex)`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** Postgres' own spelling: `16/B374D848`. */
export function formatLsn(lsn: Lsn): string {
  const hi = (lsn >> 32n).toString(16).toUpperCase();
  const lo = (lsn & 0xffffffffn).toString(16).toUpperCase();
  return `${hi}/${lo}`;
}

/** Fixed width, so that string order is WAL order: `00000016B374D848`. */
export function lsnSortKey(lsn: Lsn): string {
  return lsn.toString(16).toUpperCase().padStart(16, '0');
}
