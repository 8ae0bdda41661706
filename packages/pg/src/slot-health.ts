import { WalauditError, type SlotLoss, type SlotRisk } from '@walaudit/core';

/**
 * Whether Postgres has invalidated a replication slot. With `max_slot_wal_keep_size` set (or, on
 * 18+, `idle_replication_slot_timeout`), the server removes WAL a slot still needs and marks it
 * lost: the changes in that WAL were never decoded and never will be. Nothing may paper over it:
 * start, status, setup and /health all say so through slotLostError.
 */

/**
 * Columns of `pg_replication_slots s` for the loss check. invalidation_reason exists from 17 on;
 * read through to_jsonb so the same query runs on 14 to 18.
 */
export const SLOT_LOSS_COLUMNS = `s.wal_status::text AS wal_status, to_jsonb(s) ->> 'invalidation_reason' AS invalidation_reason`;

export interface SlotLossRow {
  wal_status: string | null;
  invalidation_reason: string | null;
}

/** The loss a slot's columns report, or null while the slot can still be read. */
export function slotLossOf(slot: SlotLoss): SlotLoss | null {
  if (slot.walStatus !== 'lost' && !slot.invalidationReason) return null;
  return { walStatus: slot.walStatus, invalidationReason: slot.invalidationReason };
}

/** slotLossOf for a row of SLOT_LOSS_COLUMNS. */
export function slotLossOfRow(row: SlotLossRow): SlotLoss | null {
  return slotLossOf({ walStatus: row.wal_status, invalidationReason: row.invalidation_reason });
}

/** `wal_status lost, invalidation_reason wal_removed`: the server's own words. */
export function describeSlotLoss(loss: SlotLoss): string {
  const parts = [`wal_status ${loss.walStatus ?? 'unknown'}`];
  if (loss.invalidationReason) parts.push(`invalidation_reason ${loss.invalidationReason}`);
  return parts.join(', ');
}

/** PG_SLOT_LOST: never retriable, since waiting cannot bring removed WAL back. */
export function slotLostError(slot: string, loss: SlotLoss | null, cause?: unknown): WalauditError {
  const why = loss ? ` (${describeSlotLoss(loss)})` : '';
  return new WalauditError(
    'PG_SLOT_LOST',
    `replication slot ${slot} was invalidated by Postgres${why}: the server removed WAL the slot had not yet delivered, so ` +
      `changes since its confirmed position were never audited and cannot be read any more. Run \`walaudit setup --recreate-lost-slot\` ` +
      `to drop it, create a new slot and record the gap in the audit trail; then raise max_slot_wal_keep_size (or keep walaudit running) so it does not happen again`,
    { cause },
  );
}

/**
 * A slot that is not lost yet but may be at the next checkpoint: `wal_status` `unreserved` means it
 * holds more WAL than max_slot_wal_keep_size allows, so Postgres is free to remove that WAL and
 * invalidate the slot. Only catching up (or a larger limit) turns it back to `extended`/`reserved`.
 */
export function slotRiskOf(slot: string, walStatus: string | null, safeWalBytes: number | null): SlotRisk | null {
  if (walStatus !== 'unreserved') return null;
  const room = safeWalBytes === null ? '' : `, safe_wal_size ${safeWalBytes} bytes`;
  return {
    walStatus,
    safeWalBytes,
    message:
      `replication slot ${slot} is about to be lost (wal_status unreserved${room}): it holds more WAL than max_slot_wal_keep_size allows, ` +
      `and Postgres will remove that WAL and invalidate the slot at its next checkpoint, leaving a gap in the audit trail. ` +
      `Keep walaudit running until its lag shrinks; if it cannot catch up in time, raise max_slot_wal_keep_size ` +
      `(ALTER SYSTEM SET max_slot_wal_keep_size = '...'; SELECT pg_reload_conf())`,
  };
}
