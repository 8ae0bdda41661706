import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, WalauditError } from '@walaudit/core';
import { Partitioners, connectIdempotentProducer, createKafkaClient, loadRdkafkaProducer, type IdempotentProducer, type KafkaSettings } from '@walaudit/kafka';
import { findFreePort } from '@walaudit/pg';
import { startLocalKafka, type LocalKafka } from '../support/kafka.js';
import { readTopic } from '../support/kafka-harness.js';
import { uniqueName } from '../support/postgres.js';
import { describeWithRdkafka } from '../support/rdkafka-binding.js';

/**
 * The reader's librdkafka producer against a real broker, read back with kafkajs (as a SIEM
 * consumer or a writer would): what it publishes, where, and how it fails. The kafkajs fallback
 * runs everywhere; the librdkafka tests only where its binding is installed.
 */
describe('idempotent producer', () => {
  let kafka: LocalKafka;
  let settings: KafkaSettings;
  const partitions = 6;

  const createTopic = async (topic: string) => {
    const admin = createKafkaClient(settings).admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] });
    await admin.disconnect();
  };

  beforeAll(async () => {
    kafka = await startLocalKafka();
    settings = parseConfig({ kafka: { brokers: kafka.brokers } }).kafka;
  });

  afterAll(async () => {
    await kafka?.stop();
  });

  /** Publishes 200 messages of 37 keys and reads them back: as given, on kafkajs's partition, in order. */
  const expectPublishedAsGiven = async (publisher: IdempotentProducer) => {
    const topic = uniqueName('kprod');
    await createTopic(topic);
    const messages = Array.from({ length: 200 }, (_, i) => ({
      key: String(700 + (i % 37)),
      value: i % 2 === 0 ? JSON.stringify({ i, text: 'é ü 中' }) : Buffer.from([0, 1, 2, i]),
      headers: { 'content-type': 'application/json', 'walaudit-event-id': `id-${i}` },
    }));
    await publisher.publish(topic, messages);
    const read = await readTopic(createKafkaClient(settings), topic, messages.length);
    expect(read).toHaveLength(messages.length);
    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
    const byId = new Map(read.map((message) => [message.headers['walaudit-event-id'], message]));
    for (const [i, sent] of messages.entries()) {
      const got = byId.get(`id-${i}`)!;
      expect(got.key).toBe(sent.key);
      expect(got.value).toBe(sent.value.toString());
      expect(got.headers).toEqual(sent.headers);
      expect(got.partition).toBe(partitioner({ topic, partitionMetadata, message: { key: sent.key, value: null } }));
    }
    // One key's messages stay in the order they were published.
    const ofKey = read.filter((message) => message.key === '700').map((message) => Number(message.headers['walaudit-event-id']!.slice(3)));
    expect(ofKey).toEqual([...ofKey].sort((a, b) => a - b));
  };

  it('falls back to kafkajs where the binding is not installed, publishing the same, and says how to build it', async () => {
    const warnings: string[] = [];
    const log = { info: () => {}, warn: (message: string) => void warnings.push(message), error: () => {} };
    const notInstalled = async () => new Error("Cannot find package '@confluentinc/kafka-javascript' imported from rdkafka-producer.js");
    const fallback = await connectIdempotentProducer(settings, log, {}, notInstalled);
    try {
      await expectPublishedAsGiven(fallback);
    } finally {
      await fallback.close();
    }
    // (kafkajs logs its own warnings through the same log.)
    const fallbackWarnings = warnings.filter((warning) => warning.includes('not installed'));
    expect(fallbackWarnings).toHaveLength(1);
    expect(fallbackWarnings[0]).toMatch(/not installed \(Cannot find package.*kafkajs.*CKJS_LINKING=dynamic npm ci/);
  });

  describeWithRdkafka('librdkafka', () => {
    let producer: IdempotentProducer;
    // The librdkafka producer itself: connectIdempotentProducer would fall back to kafkajs unseen.
    let connectRdkafka: typeof connectIdempotentProducer;

    beforeAll(async () => {
      const rdkafka = await loadRdkafkaProducer();
      if (rdkafka instanceof Error) throw rdkafka;
      connectRdkafka = rdkafka.connectIdempotentProducer;
      producer = await connectRdkafka(settings);
    });

    afterAll(async () => {
      await producer?.close();
    });

    it('publishes keys, values and headers as given, each key on the partition kafkajs would choose', async () => {
      await expectPublishedAsGiven(producer);
    });

    it('publishes a batch larger than its queue by waiting for room', async () => {
      const topic = uniqueName('kprod');
      await createTopic(topic);
      const small = await connectRdkafka(settings, undefined, { queueMessages: 1_000 });
      const count = 30_000;
      await small.publish(topic, Array.from({ length: count }, (_, i) => ({ key: String(i % 50), value: `v${i}`, headers: {} })));
      await small.close();
      const admin = createKafkaClient(settings).admin();
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets(topic);
      await admin.disconnect();
      expect(offsets.reduce((sum, partition) => sum + Number(partition.high), 0)).toBe(count);
    });

    it("refuses a change larger than the topic's max.message.bytes and says what to raise", async () => {
      const topic = uniqueName('kprod');
      await createTopic(topic);
      const failure = await producer.publish(topic, [{ key: '1', value: 'x'.repeat(2 * 1024 * 1024), headers: {} }]).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(WalauditError);
      expect(failure).toMatchObject({ code: 'KAFKA_FAILED', retriable: false });
      expect((failure as Error).message).toMatch(/max\.message\.bytes/);
      // The producer is still usable.
      await producer.publish(topic, [{ key: '1', value: 'small', headers: {} }]);
    });

    it('reports an unreachable broker as KAFKA_UNREACHABLE, naming it', async () => {
      const brokers = [`127.0.0.1:${await findFreePort()}`];
      const failure = await connectRdkafka({ ...settings, brokers }, undefined, { connectTimeoutMs: 2_000 }).catch((error: unknown) => error);
      expect(failure).toMatchObject({ code: 'KAFKA_UNREACHABLE', retriable: true });
      expect((failure as Error).message).toContain(brokers[0]);
    });
  });
});
