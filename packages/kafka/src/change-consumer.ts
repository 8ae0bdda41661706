import type { Consumer, EachBatchPayload, KafkaMessage, Producer } from 'kafkajs';
import { AUDIT_EVERYTHING, describeError, type AuditedEvent, type AuditStore, type RetryPolicy, type StoredBatchObserver } from '@walaudit/core';
import { createAuditWriter, type AuditWriter } from '@walaudit/audit-writer';
import type { ChangeDecoder } from './avro-codec.js';
import { MalformedChangeMessage, parseChangeMessage } from './change-message.schema.js';
import { deadLetterMessage } from './dead-letter.js';
import type { KafkaLog, TopicNames } from './kafka-client.js';
import { toKafkaError } from './kafka-errors.js';

export interface ChangeConsumerDeps {
  /** A consumer of the writers' group, connected, not yet subscribed. */
  consumer: Consumer;
  /** An idempotent producer, connected: dead letters go through it. */
  producer: Producer;
  topics: TopicNames;
  store: AuditStore;
  retry: RetryPolicy;
  brokers: readonly string[];
  /** Most events per insert. */
  batchSize: number;
  log?: KafkaLog;
  /** Avro through a schema registry; JSON when absent. */
  decoder?: ChangeDecoder;
  observers?: readonly StoredBatchObserver[];
  onStored?: (stored: number, skipped: number) => void;
  onDeadLetter?: (reason: string) => void;
  /** Messages left on a partition after the last stored batch (the consumer lag). */
  onLag?: (partition: number, lag: number) => void;
  /** Partitions this writer owns after each rebalance. */
  onAssigned?: (partitions: number[]) => void;
}

/** Well under the smallest session timeout (6 s). */
const HEARTBEAT_WHILE_STORING_MS = 2_000;

export interface ChangeConsumer {
  /** Subscribes and consumes until stop(); resolves once running. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The writer side of distributed mode: consumes `<prefix>.changes` in the writers' consumer group
 * into the store. Each partition has its own AuditWriter (its own chains and replay position, see
 * schemas/canonical-encoding.md), created from the store's chain heads whenever this writer is
 * (re)assigned partitions, so it continues exactly where the previous owner stopped. Offsets are
 * committed only after the insert that holds the messages: a crash replays the uncommitted ones,
 * and the writer drops those it already stored (by position), so each event is stored once.
 */
export function createChangeConsumer(deps: ChangeConsumerDeps): ChangeConsumer {
  const { consumer, topics } = deps;
  /** Reset on every rebalance: another writer may have stored more of a partition meanwhile. */
  let writers = new Map<number, Promise<AuditWriter>>();

  const writerFor = (partition: number): Promise<AuditWriter> => {
    let writer = writers.get(partition);
    if (!writer) {
      const created = createAuditWriter({
        store: deps.store,
        rules: { rules: [AUDIT_EVERYTHING], defaultRetentionDays: 0 },
        retry: deps.retry,
        observers: deps.observers,
        onStored: deps.onStored,
        partition,
      });
      writer = created.init().then(() => created);
      // A failed init is retried with the next batch, not cached.
      writer.catch(() => writers.delete(partition));
      writers.set(partition, writer);
    }
    return writer;
  };

  const commit = async (partition: number, offset: string) => {
    try {
      await consumer.commitOffsets([{ topic: topics.changes, partition, offset: (BigInt(offset) + 1n).toString() }]);
    } catch (error) {
      throw toKafkaError(error, `committing offset ${offset} of ${topics.changes}[${partition}]`, deps.brokers);
    }
  };

  const handleBatch = async ({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload) => {
    const { partition } = batch;
    const writer = await writerFor(partition);
    let chunk: AuditedEvent[] = [];
    let chunkLast: string | null = null;
    /** The last chunk's insert and offset commit: the next chunk is read and encoded meanwhile. */
    let storing: Promise<void> = Promise.resolve();
    const storeChunk = async () => {
      if (chunkLast === null) return;
      const events = chunk;
      const last = chunkLast;
      chunk = [];
      chunkLast = null;
      // Linked and encoded now (the writer queues writes); inserted after the previous chunk.
      const written = writer.writeAudited(events);
      written.catch(() => undefined); // awaited below, in order
      const previous = storing;
      storing = (async () => {
        await previous;
        // Heartbeats during a long store retry keep this writer in the group: its partitions stay
        // with it instead of moving to a writer that would wait on the same outage.
        const beat = setInterval(() => void heartbeat().catch(() => {}), HEARTBEAT_WHILE_STORING_MS);
        try {
          await written;
        } finally {
          clearInterval(beat);
        }
        // Offsets are committed in chunk order, each after its own insert.
        await commit(partition, last);
        // Resolved as well as committed: kafkajs fetches on from the resolved offset.
        resolveOffset(last);
        await heartbeat();
      })();
      storing.catch(() => undefined); // awaited by the next chunk or at the end of the batch
      // At most one chunk is stored while the next is read: wait for the one before this one.
      await previous;
    };
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) break;
      let audited: AuditedEvent;
      try {
        audited = deps.decoder ? await deps.decoder.decode(message.value) : parseChangeMessage(message.value);
      } catch (error) {
        if (!(error instanceof MalformedChangeMessage)) throw error;
        // Stored and committed in order: the dead letter's offset is committed after the events before it.
        await storeChunk();
        await storing;
        await deadLetter(partition, message, error.message);
        await commit(partition, message.offset);
        resolveOffset(message.offset);
        continue;
      }
      chunk.push(audited);
      chunkLast = message.offset;
      if (chunk.length >= deps.batchSize) await storeChunk();
    }
    await storeChunk();
    await storing;
    const lag = Number(batch.offsetLag());
    deps.onLag?.(partition, Number.isFinite(lag) ? lag : 0);
  };

  const deadLetter = async (partition: number, message: KafkaMessage, reason: string) => {
    deps.log?.warn(`${topics.changes}[${partition}] offset ${message.offset} is not a walaudit change event, sent to ${topics.deadLetter}: ${reason}`);
    try {
      await deps.producer.send({ topic: topics.deadLetter, acks: -1, messages: [deadLetterMessage(message, { topic: topics.changes, partition, reason })] });
    } catch (error) {
      throw toKafkaError(error, `sending offset ${message.offset} to ${topics.deadLetter}`, deps.brokers);
    }
    deps.onDeadLetter?.(reason);
  };

  return {
    async start() {
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        writers = new Map();
        const partitions = event.payload.memberAssignment[topics.changes] ?? [];
        deps.log?.info(`joined group as ${event.payload.memberId}: partitions ${partitions.join(', ') || '(none)'} of ${topics.changes}`);
        deps.onAssigned?.(partitions);
      });
      consumer.on(consumer.events.CRASH, (event) => {
        deps.log?.warn(`consumer crashed (${describeError(event.payload.error)}); ${event.payload.restart ? 'it restarts' : 'it does not restart'}`);
      });
      await consumer.subscribe({ topics: [topics.changes], fromBeginning: true });
      await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1, eachBatch: handleBatch });
    },
    async stop() {
      await consumer.disconnect();
    },
  };
}
