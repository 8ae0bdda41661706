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

/** Where decoded events go. `write` resolves only once the events are durable. */
export interface ChangeSink {
  write(events: ChangeEvent[]): Promise<void>;
}
