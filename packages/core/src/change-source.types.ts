import type { ChangeEvent } from './change-event.types.js';
import type { Lsn } from './lsn.js';
import type { WalMessage } from './wal-message.types.js';

/**
 * A stream of WAL messages in commit order (Postgres logical replication in production).
 * The next message waits until the handler's promise settles, so a slow sink slows the
 * stream instead of filling memory.
 */
export interface ChangeSource {
  /** Resolves when `stop()` ends the stream; rejects when the stream fails. */
  run(handler: (message: WalMessage) => void | Promise<void>): Promise<void>;
  /** Everything up to `lsn` is durable downstream: the server may release that WAL. */
  confirm(lsn: Lsn): void;
  stop(): Promise<void>;
}

/** A committed transaction that had events, in commit order (see ChangeSink.wantsTransactionEnds). */
export interface TransactionEnd {
  /** Events the decoder emitted for it. */
  events: number;
}

/** Where decoded events go. `write` resolves only once the events are durable. */
export interface ChangeSink {
  /**
   * `ends`, given only to a sink that wants them: the transactions committed since the previous
   * write, oldest first, each of whose events is in this batch or an earlier one.
   */
  write(events: ChangeEvent[], ends?: readonly TransactionEnd[]): Promise<void>;
  /**
   * True for a sink that publishes transaction boundaries (the Kafka sink's END markers): the
   * reader then also calls write() for a flush that holds only ends, before confirming it.
   */
  readonly wantsTransactionEnds?: boolean;
  /**
   * True for a sink that takes the next write() before the previous one resolved: it does the
   * batch's CPU work at the call, stores batches one at a time in call order, and fails the
   * writes queued behind a failed one. The reader then hands a full batch over at once, so its
   * encoding overlaps the previous batch's insert.
   */
  readonly queuesWrites?: boolean;
}
