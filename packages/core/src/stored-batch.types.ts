import type { AuditedEvent } from './audit-rule.js';
import type { LogPosition } from './event-id.js';

/**
 * Receives the events of one durable batch, after the audit rules (masked as stored), and the
 * stream they belong to: batches of one partition arrive in log order, batches of different
 * partitions (distributed mode) interleave in no order, so an observer that keeps a position or
 * a transaction's state keeps one per partition.
 */
export type StoredBatchObserver = (stored: readonly AuditedEvent[], stream: StoredBatchStream) => void | Promise<void>;

export interface StoredBatchStream {
  /** The Kafka partition of `<prefix>.changes` (distributed mode); 0 in standalone mode. */
  partition: number;
  /**
   * Set on the first call after this writer took the stream (at start; in distributed mode, at
   * each assignment of the partition) and on the call after one whose observers failed: the
   * position of the first event received then. Entries of the stream from that position's
   * transaction on may be stored without the observers having taken them (the last owner died, or
   * an observer failed, between the insert and the end of the observers); their events come back
   * as replays, which are not passed on, so an observer that must not miss an entry reads them
   * from the store. Such a call may carry no stored event.
   */
  unobservedFrom?: LogPosition;
}
