import type pg from 'pg';
import { recordAuditAction } from './audit-context.js';
import { describeSlotLoss } from './slot-health.js';
import type { InspectedSlot } from './inspect-database.js';

/**
 * The `gap` entry `walaudit setup --recreate-lost-slot` writes into the audit trail: which WAL
 * range and which span of time were never audited, and why. It is a walaudit.action message in the
 * audited database's WAL, written after the new slot exists, so the new slot delivers it as the
 * first entry after the gap and the hash chain carries the admission.
 */
export interface SlotGap {
  name: 'gap';
  slot: string;
  reason: string;
  /** The lost slot's confirmed position: everything after it went unaudited. */
  fromLsn: string | null;
  /** The new slot's start: audited again from here. */
  toLsn: string | null;
  /** Commit time of the last entry the store holds, when the caller could read it. */
  from: string | null;
  /** When the new slot was created (server time). */
  to: string;
  recreatedBy: string;
  [key: string]: unknown;
}

export async function recordSlotGap(client: pg.ClientBase, input: { slot: string; lost: InspectedSlot; lastAuditedAt: string | null; role: string }): Promise<SlotGap> {
  const { rows } = await client.query<{ lsn: string | null; now: string }>(
    `SELECT (SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1) AS lsn,
            to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS now`,
    [input.slot],
  );
  const loss = describeSlotLoss({ walStatus: input.lost.walStatus, invalidationReason: input.lost.invalidationReason });
  const gap: SlotGap = {
    name: 'gap',
    slot: input.slot,
    reason: `replication slot ${input.slot} was invalidated by Postgres (${loss}); the changes in between were never decoded`,
    fromLsn: input.lost.confirmedLsn,
    toLsn: rows[0]?.lsn ?? null,
    from: input.lastAuditedAt,
    to: rows[0]!.now,
    recreatedBy: input.role,
  };
  await recordAuditAction(client, gap);
  return gap;
}
