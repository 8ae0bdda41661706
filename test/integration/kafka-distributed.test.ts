import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditLog } from '@walaudit/core';
import { Partitioners, createKafkaClient, ensureTopics, type TransactionMarker } from '@walaudit/kafka';
import { runSetup } from '@walaudit/pg';
import { startLocalKafka, type LocalKafka } from '../support/kafka.js';
import { kafkaTestConfig, readTopic, startKafkaReader, startKafkaWriter, topicNames } from '../support/kafka-harness.js';
import { embeddedStore, waitForCount } from '../support/pipeline-harness.js';
import { createTestDatabase, query, uniqueName, type TestDatabase } from '../support/postgres.js';

/** One broker for the file (a start costs seconds); every test has its own topic prefix and group. */
let kafka: LocalKafka;

beforeAll(async () => {
  kafka = await startLocalKafka();
});

afterAll(async () => {
  await kafka?.stop();
});

async function waitUntil(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the condition');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function preparedDatabase(prefix: string): Promise<{ db: TestDatabase; slot: string }> {
  const db = await createTestDatabase(prefix);
  const slot = uniqueName(prefix);
  await query(db.url, 'CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, ssn text)');
  await query(db.url, 'CREATE TABLE notes (id int PRIMARY KEY, body text)');
  await runSetup(db.url, { slot, publication: slot, tables: [], dryRun: false, log: () => {} });
  return { db, slot };
}

describe('distributed mode: reader -> Kafka -> writers -> ClickHouse', () => {
  it('publishes each audited change keyed by xid with headers, BEGIN/END markers, and the writer stores them with an intact chain', async () => {
    const { db, slot } = await preparedDatabase('kafka_flow');
    const prefix = uniqueName('flow');
    const config = kafkaTestConfig(kafka.brokers, prefix, {
      source: { slot, publication: slot },
      rules: [
        { tables: ['notes'], audit: false },
        { tables: ['accounts'], mask: [{ column: 'ssn', mode: 'redact' }], retentionDays: 30 },
      ],
    });
    const store = await embeddedStore(uniqueName('flow'));
    const reader = await startKafkaReader(db.url, config);
    const writer = await startKafkaWriter(store, config);
    try {
      for (let tx = 0; tx < 20; tx++) {
        await query(db.url, `INSERT INTO accounts SELECT g, 'owner ' || g, '123-45-' || g FROM generate_series($1::int, $1::int + 4) g`, [tx * 5]);
        await query(db.url, `INSERT INTO notes VALUES ($1, 'not audited')`, [tx]);
      }
      await query(db.url, 'DELETE FROM accounts WHERE id < 10');
      expect(await waitForCount(store, 110)).toBe(110);

      const client = createKafkaClient(config.kafka);
      const topics = topicNames(prefix);
      const changes = await readTopic(client, topics.changes, 110);
      expect(changes).toHaveLength(110);
      const first = changes.find((message) => JSON.parse(message.value).op === 'insert')!;
      const event = JSON.parse(first.value);
      expect(first.key).toBe(String(event.tx.xid));
      expect(first.headers).toMatchObject({ 'content-type': 'application/json', 'walaudit-schema': 'change-event', 'walaudit-schema-version': '1', 'walaudit-event-id': event.id });
      expect(event).toMatchObject({ table: 'accounts', retentionDays: 30, critical: false });
      expect(event.after.ssn).toBe('[redacted]');
      expect(changes.some((message) => message.value.includes('not audited'))).toBe(false);
      // A transaction stays whole in one partition.
      const partitionsOfXid = new Map<string, Set<number>>();
      for (const message of changes) partitionsOfXid.set(message.key, (partitionsOfXid.get(message.key) ?? new Set()).add(message.partition));
      expect([...partitionsOfXid.values()].every((set) => set.size === 1)).toBe(true);

      const markers = (await readTopic(client, topics.transactions, 42)).map((message) => JSON.parse(message.value) as TransactionMarker);
      expect(markers.filter((marker) => marker.type === 'BEGIN')).toHaveLength(21);
      const ends = markers.filter((marker) => marker.type === 'END');
      expect(ends).toHaveLength(21);
      const deleteEnd = ends.find((marker) => marker.events === 10)!;
      expect(deleteEnd.tables).toEqual({ 'public.accounts': 10 });

      const report = await verifyAuditLog(store);
      expect(report.problem).toBeNull();
      expect(report.entriesChecked).toBe(110);
      expect(report.chains.every((chain) => chain.chain === 30)).toBe(true);
      expect(report.chains.length).toBeGreaterThan(1); // several partitions, one chain each
    } finally {
      await writer.stop();
      await reader.stop();
      await store.close();
      await db.drop();
    }
  });

  it('sends a message it cannot read to the dead-letter topic with the reason, and goes on', async () => {
    const prefix = uniqueName('dlq');
    const config = kafkaTestConfig(kafka.brokers, prefix, { kafka: { partitions: 1 } });
    const topics = topicNames(prefix);
    const { db, slot } = await preparedDatabase('kafka_dlq');
    const readerConfig = kafkaTestConfig(kafka.brokers, prefix, { source: { slot, publication: slot }, kafka: { partitions: 1 } });
    const store = await embeddedStore(uniqueName('dlq'));
    const reader = await startKafkaReader(db.url, readerConfig);
    const client = createKafkaClient(config.kafka);
    const producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const writer = await startKafkaWriter(store, config);
    try {
      await query(db.url, `INSERT INTO accounts VALUES (1, 'before', null)`);
      await waitForCount(store, 1);
      await producer.send({
        topic: topics.changes,
        messages: [
          { key: 'x', value: 'this is not json', headers: { origin: 'someone else' } },
          { key: 'y', value: JSON.stringify({ id: 'nope', op: 'delete' }) },
        ],
      });
      await query(db.url, `INSERT INTO accounts VALUES (2, 'after', null)`);
      await waitForCount(store, 2);
      const dead = await readTopic(client, topics.deadLetter, 2);
      expect(dead.map((message) => message.value)).toEqual(['this is not json', JSON.stringify({ id: 'nope', op: 'delete' })]);
      expect(dead[0]!.headers['walaudit-dead-letter-reason']).toMatch(/not JSON/);
      expect(dead[0]!.headers.origin).toBe('someone else');
      expect(dead[1]!.headers['walaudit-dead-letter-reason']).toMatch(/^not a walaudit change event v1: id: expected/);
      expect(dead[1]!.headers['walaudit-dead-letter-topic']).toBe(topics.changes);
      expect(writer.deadLetters).toHaveLength(2);
      expect((await verifyAuditLog(store)).problem).toBeNull();
    } finally {
      await producer.disconnect();
      await writer.stop();
      await reader.stop();
      await store.close();
      await db.drop();
    }
  });

  it('two writers in one group share the partitions; stopping one hands its partitions to the other; every event stored once', async () => {
    const { db, slot } = await preparedDatabase('kafka_group');
    const prefix = uniqueName('group');
    const config = kafkaTestConfig(kafka.brokers, prefix, { source: { slot, publication: slot }, pipeline: { batchSize: 200 } });
    const database = uniqueName('group');
    const store = await embeddedStore(database);
    const reader = await startKafkaReader(db.url, config);
    const first = await startKafkaWriter(store, config);
    const second = await startKafkaWriter(store, config);
    try {
      const load = (from: number, transactions: number) =>
        Promise.all(
          Array.from({ length: transactions }, (_, tx) =>
            query(db.url, `INSERT INTO accounts SELECT g, 'owner', null FROM generate_series($1::int, $1::int + 99) g`, [from + tx * 100]),
          ),
        );
      await waitUntil(() => first.assigned().length > 0 && second.assigned().length > 0 && first.assigned().length + second.assigned().length === 4);
      expect([...first.assigned(), ...second.assigned()].sort()).toEqual([0, 1, 2, 3]);
      await load(0, 30);
      await waitForCount(store, 3_000);

      await first.stop();
      await waitUntil(() => second.assigned().length === 4);
      await load(3_000, 30);
      expect(await waitForCount(store, 6_000)).toBe(6_000);

      // Exactly once: not one replayed copy was inserted (FINAL would hide one until a merge).
      const { rows } = (await store.select<{ rows: string }>(`SELECT toString(count()) AS rows FROM \`${database}\`.audit_log`))[0]!;
      expect(Number(rows)).toBe(6_000);
      const report = await verifyAuditLog(store);
      expect(report.problem).toBeNull();
      expect(report.entriesChecked).toBe(6_000);
      // Both writers linked chains of their partitions; one chain per partition that got data.
      expect(report.chains.length).toBeGreaterThan(1);
      expect(report.chains.every((chain) => chain.chain === 90)).toBe(true);
    } finally {
      await second.stop();
      await first.stop().catch(() => {});
      await reader.stop();
      await store.close();
      await db.drop();
    }
  });

  // Last in the file: it stops the file's broker for a while.
  it('a broker restart mid-stream: the reader and the writer reconnect by themselves and nothing is lost', async () => {
    const { db, slot } = await preparedDatabase('kafka_restart');
    const prefix = uniqueName('restart');
    const config = kafkaTestConfig(kafka.brokers, prefix, { source: { slot, publication: slot }, pipeline: { batchSize: 500 } });
    const database = uniqueName('restart');
    const store = await embeddedStore(database);
    const reader = await startKafkaReader(db.url, config);
    const writer = await startKafkaWriter(store, config);
    const load = async (from: number, transactions: number) => {
      for (let tx = 0; tx < transactions; tx++) {
        await query(db.url, `INSERT INTO accounts SELECT g, 'owner', null FROM generate_series($1::int, $1::int + 99) g`, [from + tx * 100]);
      }
    };
    try {
      await load(0, 10);
      await waitForCount(store, 1_000);
      await kafka.stop();
      // Committed while the broker is down: the slot holds them until Kafka acknowledges.
      await load(1_000, 10);
      await kafka.restart();
      await load(2_000, 10);
      expect(await waitForCount(store, 3_000, 120_000)).toBe(3_000);
      const { rows } = (await store.select<{ rows: string }>(`SELECT toString(count()) AS rows FROM \`${database}\`.audit_log`))[0]!;
      expect(Number(rows)).toBe(3_000);
      expect((await verifyAuditLog(store)).problem).toBeNull();
    } finally {
      await writer.stop();
      await reader.stop();
      await store.close();
      await db.drop();
    }
  });
});

describe('topics', () => {
  it('are created once when the reader and writers start together, and each of them goes on once the partitions have leaders', async () => {
    const prefix = uniqueName('ktopics');
    const topics = topicNames(prefix);
    const config = kafkaTestConfig(kafka.brokers, prefix);
    const created: string[] = [];
    const admins = [0, 1, 2, 3].map(() => createKafkaClient(config.kafka).admin());
    await Promise.all(admins.map((admin) => admin.connect()));
    try {
      // The race of `--services all` (reader and writer in one process) and of writers started at once.
      await Promise.all(admins.map((admin) => ensureTopics(admin, topics, config.kafka, { info: (line) => created.push(line), warn: () => {}, error: () => {} })));
      expect(created).toHaveLength(1);
      const metadata = await admins[0]!.fetchTopicMetadata({ topics: [topics.changes] });
      expect(metadata.topics[0]!.partitions.every((partition) => partition.leader >= 0)).toBe(true);
    } finally {
      await Promise.all(admins.map((admin) => admin.disconnect()));
    }
  });
});
