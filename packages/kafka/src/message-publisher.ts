import type { OutgoingMessage } from './change-message.js';

/** Publishes messages and says when the brokers have them. */
export interface MessagePublisher {
  /**
   * Resolves once every message is acknowledged by all in-sync replicas; rejects with a
   * WalauditError if one cannot be (the others may still be written: a retry writes them again).
   * One call at a time.
   */
  publish(topic: string, messages: readonly OutgoingMessage[]): Promise<void>;
}

export interface IdempotentProducer extends MessagePublisher {
  /** Waits up to 5 s for messages still queued, then closes the connections. */
  close(): Promise<void>;
}
