import type { AuditedEvent } from './audit-rule.js';

/**
 * Where a distributed writer's consumer hands the events of `<prefix>.changes`, partition by
 * partition. The consumer (packages/kafka) does the Kafka work: decoding, dead letters, heartbeats,
 * and committing a message's offset only once the write that holds it resolved. The sink
 * (services/audit-writer's partitioned writer) keeps each partition's chains and replay position.
 */
export interface PartitionedSink {
  /**
   * The consumer was (re)assigned these partitions (it joined its group): what the sink knew of
   * any partition is stale, since another member may have stored more of it meanwhile.
   */
  assigned(partitions: readonly number[]): void;
  /**
   * The partition's writer, ready to write (it has read where the partition's chains stand). The
   * consumer takes it once per fetched batch and writes the whole batch through it, so a batch is
   * never split between a writer and the one that replaces it at a reassignment. Rejects when the
   * store cannot be read: the batch fails before any of it is read, and the next try asks again.
   */
  writerFor(partition: number): Promise<PartitionWriter>;
}

/** One partition's writer (see PartitionedSink.writerFor). */
export interface PartitionWriter {
  /**
   * Stores events the audit rules were already applied to (the distributed reader applies them
   * before publishing, so masked values never reach Kafka); durable when it resolves. Replays (at
   * or below the partition's stored position) are dropped. May be called before the previous
   * write resolved: the linking and encoding run at the call, the inserts one at a time in call
   * order, and a write fails when one before it failed.
   */
  writeAudited(events: readonly AuditedEvent[]): Promise<void>;
}
