import type { Kafka } from 'kafkajs';
import { parseConfig, withAuditRules, type AuditStore, type WalauditConfig, type WalauditConfigInput, type StoredBatchObserver } from '@walaudit/core';
import { PgReplicationSource } from '@walaudit/pg';
import { createWalReader } from '@walaudit/wal-reader';
import { createPartitionedWriter } from '@walaudit/audit-writer';
import { Partitioners, changeDecoderFor, changeEncoderFor, connectIdempotentProducer, createChangeConsumer, createKafkaChangeSink, createKafkaClient, ensureTopics, topicNames, type TopicNames } from '@walaudit/kafka';

/** A config for one test: its own topic prefix and group on the file's broker. */
export function kafkaTestConfig(brokers: string[], prefix: string, input: WalauditConfigInput = {}): WalauditConfig {
  return parseConfig({
    ...input,
    pipeline: { flushIntervalMs: 50, retryInitialMs: 50, retryMaxMs: 500, ...input.pipeline },
    kafka: { brokers, topicPrefix: prefix, groupId: `${prefix}-writers`, partitions: 4, sessionTimeoutMs: 6_000, ...input.kafka },
  });
}

export interface InProcessService {
  stop(): Promise<void>;
}

/** The test's topics, created as the reader creates them (and with leaders) when absent. */
export async function createTestTopics(config: WalauditConfig): Promise<TopicNames> {
  const topics = topicNames(config.kafka.topicPrefix);
  const admin = createKafkaClient(config.kafka).admin();
  await admin.connect();
  try {
    await ensureTopics(admin, topics, config.kafka);
  } finally {
    await admin.disconnect();
  }
  return topics;
}

/** The distributed reader in this process: slot -> rules -> Kafka. */
export async function startKafkaReader(sourceUrl: string, config: WalauditConfig): Promise<InProcessService & { done: Promise<void> }> {
  const topics = await createTestTopics(config);
  const producer = await connectIdempotentProducer(config.kafka);
  const sink = withAuditRules(createKafkaChangeSink({ encoder: await changeEncoderFor(config.kafka, topics.changes), producer, topics }), {
    rules: config.rules,
    defaultRetentionDays: config.retention.defaultDays,
    hashKey: config.masking.hashKey,
  });
  const source = new PgReplicationSource({ url: sourceUrl, slot: config.source.slot, publication: config.source.publication });
  const reader = createWalReader({ source, sink, options: { batchSize: config.pipeline.batchSize, flushIntervalMs: config.pipeline.flushIntervalMs } });
  const done = reader.run();
  done.catch(() => {});
  return {
    done,
    async stop() {
      await reader.stop();
      await done.catch(() => {});
      await producer.close();
    },
  };
}

/** One distributed writer in this process: the group's share of Kafka -> store. */
export async function startKafkaWriter(
  store: AuditStore,
  config: WalauditConfig,
  options: { observers?: readonly StoredBatchObserver[] } = {},
): Promise<InProcessService & { assigned: () => number[]; deadLetters: string[] }> {
  const kafka = createKafkaClient(config.kafka);
  const topics = topicNames(config.kafka.topicPrefix);
  const consumer = kafka.consumer({ groupId: config.kafka.groupId, sessionTimeout: config.kafka.sessionTimeoutMs, heartbeatInterval: 1_000 });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: Number.MAX_SAFE_INTEGER } });
  await Promise.all([consumer.connect(), producer.connect()]);
  let assigned: number[] = [];
  const deadLetters: string[] = [];
  const service = createChangeConsumer({
    decoder: await changeDecoderFor(config.kafka),
    consumer,
    producer,
    topics,
    sink: createPartitionedWriter({ store, retry: { initialMs: config.pipeline.retryInitialMs, maxMs: config.pipeline.retryMaxMs }, observers: options.observers }),
    brokers: config.kafka.brokers,
    batchSize: config.pipeline.batchSize,
    onAssigned: (partitions) => (assigned = partitions),
    onDeadLetter: (reason) => deadLetters.push(reason),
  });
  await service.start();
  return {
    assigned: () => assigned,
    deadLetters,
    async stop() {
      await service.stop();
      await producer.disconnect();
    },
  };
}

/** A message as a consumer sees it; `bytes` is the value undecoded (Avro's wire format). */
export interface TopicMessage {
  key: string;
  value: string;
  bytes: Buffer;
  headers: Record<string, string>;
  partition: number;
}

/** Every message of a topic from the beginning, read by a throwaway consumer (what a SIEM sees). */
export async function readTopic(kafka: Kafka, topic: string, expected: number, timeoutMs = 60_000): Promise<TopicMessage[]> {
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${Math.random().toString(36).slice(2)}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const messages: TopicMessage[] = [];
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = String(value);
      messages.push({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '', bytes: message.value ?? Buffer.alloc(0), headers, partition });
      if (messages.length >= expected) resolveDone();
    },
  });
  const timer = setTimeout(resolveDone, timeoutMs);
  await done;
  clearTimeout(timer);
  await consumer.disconnect();
  return messages;
}

export { topicNames, type TopicNames };
