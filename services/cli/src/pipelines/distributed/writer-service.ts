import { describeError, type AuditStore, type WalauditConfig, retryWhileRetriable, type StoredBatchObserver } from '@walaudit/core';
import { changeDecoderFor, createChangeConsumer, createIdempotentKafkajsProducer, createKafkaClient, ensureTopics, toKafkaError, topicNames, type ChangeConsumer } from '@walaudit/kafka';
import { createPartitionedWriter } from '@walaudit/audit-writer';
import type { PipelineMetrics } from '@walaudit/api';
import type { Logger } from '../../logger.js';
import type { KafkaMetrics } from './kafka-metrics.js';
import type { ServiceState } from './service-state.js';

const LAG_CHECK_MS = 2_000;
const START_WAIT_MS = 15_000;

export interface WriterServiceDeps {
  config: WalauditConfig;
  store: AuditStore;
  metrics: PipelineMetrics;
  kafkaMetrics: KafkaMetrics;
  state: ServiceState;
  log: Logger;
  observers?: readonly StoredBatchObserver[];
}

export interface WriterService {
  /** Resolves on stop(); rejects when the consumer fails for good. */
  run(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Distributed mode's writer: one member of the writers' consumer group, storing its partitions of
 * `<prefix>.changes`. kafkajs reconnects and rejoins by itself after a broker restart; a store
 * outage holds the partition (retries with backoff, heartbeats go on) while the lag grows.
 */
export function createWriterService(deps: WriterServiceDeps): WriterService {
  const { config, metrics, kafkaMetrics, state, log } = deps;
  const topics = topicNames(config.kafka.topicPrefix);
  const kafka = createKafkaClient(config.kafka, log.child('kafkajs'));
  const consumer = kafka.consumer({
    groupId: config.kafka.groupId,
    sessionTimeout: config.kafka.sessionTimeoutMs,
    heartbeatInterval: Math.max(500, Math.floor(config.kafka.sessionTimeoutMs / 10)),
    // Each batch becomes inserts of at most pipeline.batchSize events: about 1 KiB each.
    maxBytesPerPartition: 48 * 1024 * 1024,
    maxBytes: 64 * 1024 * 1024,
  });
  const producer = createIdempotentKafkajsProducer(kafka);
  const lagAdmin = kafka.admin();
  let stopping = false;
  let requestStop: () => void = () => {};
  const stopRequested = new Promise<void>((resolve) => (requestStop = resolve));

  /**
   * Lag from the broker's view (end offsets minus the group's committed offsets), not from the
   * batch loop: during a store outage no batch completes, and that is when the lag must show.
   */
  const checkLag = async () => {
    if (state.partitions.length === 0) return;
    try {
      const [ends, committed] = await Promise.all([
        lagAdmin.fetchTopicOffsets(topics.changes),
        lagAdmin.fetchOffsets({ groupId: config.kafka.groupId, topics: [topics.changes] }),
      ]);
      const committedBy = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
      for (const end of ends) {
        if (!state.partitions.includes(end.partition)) continue;
        const low = BigInt(end.low);
        const done = committedBy.get(end.partition) ?? -1n;
        const lag = Number(BigInt(end.high) - (done < 0n ? low : done));
        state.lag.set(end.partition, lag);
        kafkaMetrics.consumerLag.set({ partition: String(end.partition) }, lag);
      }
    } catch (error) {
      state.recordError(toKafkaError(error, 'reading the consumer lag', config.kafka.brokers));
    }
  };
  let service: ChangeConsumer | null = null;
  /** service.start() in progress: kafkajs joins the group there. */
  let starting: Promise<void> | null = null;
  let finish: ((error?: unknown) => void) | null = null;

  return {
    async run() {
      const done = new Promise<void>((resolve, reject) => (finish = (error) => (error ? reject(error) : resolve())));
      // Before joining the group (nothing to close when it fails): a registry not up yet is waited
      // for, as the store is; one that refuses (wrong path, credentials) stops the writer.
      let decoder: Awaited<ReturnType<typeof changeDecoderFor>>;
      try {
        decoder = await retryWhileRetriable(() => changeDecoderFor(config.kafka), {
          initialMs: config.pipeline.retryInitialMs,
          maxMs: config.pipeline.retryMaxMs,
          cancelled: () => stopping,
          interrupted: stopRequested,
          onRetry: (attempt, delayMs, error) => log.warn(`${describeError(error)} (attempt ${attempt}); retrying in ${delayMs} ms`),
        });
      } catch (error) {
        if (stopping) return; // stopped while the registry was not answering: nothing started
        throw error;
      }
      try {
        await Promise.all([consumer.connect(), producer.connect(), lagAdmin.connect()]);
        await ensureTopics(lagAdmin, topics, config.kafka, log);
      } catch (error) {
        throw toKafkaError(error, 'joining the writers group', config.kafka.brokers);
      }
      consumer.on(consumer.events.CRASH, (event) => {
        // A broker's error (a coordinator still loading on a new broker) is named as Kafka's, not
        // INTERNAL; a store failure, even wrapped by kafkajs, keeps its own code.
        const error = toKafkaError(event.payload.error, `consuming ${topics.changes} in group ${config.kafka.groupId}${event.payload.restart ? ' (the consumer restarts)' : ''}`, config.kafka.brokers);
        state.recordError(error);
        if (!event.payload.restart && !stopping) {
          state.failed();
          finish?.(error);
        }
      });
      if (stopping) {
        // stop() came during the connects above: it found no consumer running, so none starts.
        await Promise.all([consumer.disconnect(), producer.disconnect(), lagAdmin.disconnect()].map((closing) => closing.catch(() => {})));
        return;
      }
      service = createChangeConsumer({
        decoder,
        consumer,
        producer,
        topics,
        sink: createPartitionedWriter({
          store: deps.store,
          observers: deps.observers,
          retry: {
            initialMs: config.pipeline.retryInitialMs,
            maxMs: config.pipeline.retryMaxMs,
            cancelled: () => stopping,
            onRetry: (attempt, delayMs, error) => {
              state.recordError(error);
              metrics.storeRetries.inc();
              state.retrying();
              log.warn(`store write failed (attempt ${attempt}), retrying in ${delayMs} ms; offsets are not committed meanwhile: ${describeError(error)}`);
            },
          },
          onStored: (stored, skipped) => {
            state.stored(stored);
            metrics.entriesStored.inc(stored);
            metrics.eventsSkipped.inc(skipped);
            state.running();
          },
        }),
        brokers: config.kafka.brokers,
        batchSize: config.pipeline.batchSize,
        log,
        onDeadLetter: () => {
          state.deadLetters++;
          kafkaMetrics.deadLetters.inc();
        },
        onAssigned: (partitions) => {
          state.partitions = [...partitions].sort((a, b) => a - b);
          state.lag.clear();
          kafkaMetrics.consumerLag.reset();
          kafkaMetrics.partitions.set(partitions.length);
        },
      });
      starting = service.start();
      await starting;
      state.running();
      log.info(`writing ${topics.changes} (group ${config.kafka.groupId}) into the store`);
      const lagCheck = setInterval(() => void checkLag(), LAG_CHECK_MS);
      try {
        await done;
      } finally {
        clearInterval(lagCheck);
        await lagAdmin.disconnect().catch(() => {});
      }
    },
    async stop() {
      stopping = true;
      requestStop();
      // A consumer disconnected while it joins takes it as a crash and restarts by itself, which
      // would keep the process running after it said it stopped: let the join end first (bounded,
      // for a broker that does not answer).
      if (starting) await Promise.race([starting.catch(() => {}), new Promise((resolve) => setTimeout(resolve, START_WAIT_MS).unref())]);
      await service?.stop().catch(() => {});
      await consumer.disconnect().catch(() => {});
      await producer.disconnect().catch(() => {});
      finish?.();
    },
  };
}

