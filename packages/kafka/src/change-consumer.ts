import type { Consumer, EachBatchPayload, KafkaMessage, Producer } from 'kafkajs';
import { describeError, type AuditedEvent, type PartitionedSink } from '@walaudit/core';
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
  /** Stores each partition's events (services/audit-writer's partitioned writer). */
  sink: PartitionedSink;
  brokers: readonly string[];
  /** Most events per write to the sink. */
  batchSize: number;
  log?: KafkaLog;
  /** Avro through a schema registry; JSON when absent. */
  decoder?: ChangeDecoder;
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
 * and hands each partition's events to the sink, which stores them. The sink is told of every
 * (re)assignment, so it continues each partition exactly where the previous owner stopped.
 * Offsets are committed only after the sink's write that holds the messages resolved: a crash
 * replays the uncommitted ones, and the sink drops those it already stored (by position), so each
 * event is stored once.
 */
export function createChangeConsumer(deps: ChangeConsumerDeps): ChangeConsumer {
  const { consumer, topics } = deps;

  const commit = async (partition: number, offset: string) => {
    try {
      await consumer.commitOffsets([{ topic: topics.changes, partition, offset: (BigInt(offset) + 1n).toString() }]);
    } catch (error) {
      throw toKafkaError(error, `committing offset ${offset} of ${topics.changes}[${partition}]`, deps.brokers);
    }
  };

  const handleBatch = async ({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload) => {
    const { partition } = batch;
    // Once per batch: a reassignment during it does not hand part of it to the next writer.
    const writer = await deps.sink.writerFor(partition);
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
      // Linked and encoded now (the writer queues writes); stored after the previous chunk.
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
        const partitions = event.payload.memberAssignment[topics.changes] ?? [];
        deps.log?.info(`joined group as ${event.payload.memberId}: partitions ${partitions.join(', ') || '(none)'} of ${topics.changes}`);
        deps.sink.assigned(partitions);
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
