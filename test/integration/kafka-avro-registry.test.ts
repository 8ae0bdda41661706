import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { verifyAuditLog } from '@walaudit/core';
import { AVRO_CONTENT_TYPE, Partitioners, changeDecoderFor, changeEncoderFor, createKafkaClient } from '@walaudit/kafka';
import { findFreePort, runSetup, withAuditContext } from '@walaudit/pg';
import { startLocalKafka, type LocalKafka } from '../support/kafka.js';
import { createTestTopics, kafkaTestConfig, readTopic, startKafkaReader, startKafkaWriter, topicNames } from '../support/kafka-harness.js';
import { embeddedStore, waitForCount } from '../support/pipeline-harness.js';
import { connect, createTestDatabase, query, uniqueName } from '../support/postgres.js';
import { startLocalSchemaRegistry, type LocalSchemaRegistry } from '../support/schema-registry.js';

/**
 * `kafka.format: avro` against a real Confluent-compatible registry (Apicurio Registry, built from
 * Maven Central by infra/schema-registry/registry.sh) and a real broker.
 */
let kafka: LocalKafka;
let registry: LocalSchemaRegistry;

beforeAll(async () => {
  [kafka, registry] = await Promise.all([startLocalKafka(), startLocalSchemaRegistry()]);
});

afterAll(async () => {
  await Promise.all([kafka?.stop(), registry?.stop()]);
});

const REGISTRY_JSON = { 'Content-Type': 'application/vnd.schemaregistry.v1+json' };

async function registryGet<T>(path: string): Promise<T> {
  const response = await fetch(`${registry.url}${path}`);
  expect(response.status, `GET ${path}`).toBe(200);
  return (await response.json()) as T;
}

describe('Avro with a schema registry', () => {
  it('registers the schema, publishes the Confluent wire format a SIEM decodes with the registry alone, and the writer stores every value exactly', async () => {
    const db = await createTestDatabase('kafka_avro');
    const slot = uniqueName('kafka_avro');
    await query(db.url, 'CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, ssn text, balance numeric(20,6), seen timestamptz, photo bytea, tags text[], doc jsonb)');
    await runSetup(db.url, { slot, publication: slot, tables: [], dryRun: false, log: () => {} });
    const prefix = uniqueName('avro');
    const topics = topicNames(prefix);
    const config = kafkaTestConfig(kafka.brokers, prefix, {
      source: { slot, publication: slot },
      kafka: { format: 'avro', schemaRegistryUrl: registry.url },
      rules: [{ tables: ['accounts'], mask: [{ column: 'ssn', mode: 'redact' }], critical: true }],
    });
    const store = await embeddedStore(uniqueName('avro'));
    const reader = await startKafkaReader(db.url, config);
    const writer = await startKafkaWriter(store, config);
    const client = await connect(db.url);
    try {
      await query(
        db.url,
        `INSERT INTO accounts SELECT g, 'owner ' || g, '123-45-' || g, 12345678901234.123456 + g, '2024-01-02 03:04:05.654321+00', '\\x00ff10', '{a,"b c",NULL}', '{"b": 1, "a": [true, null]}' FROM generate_series(1, 5) g`,
      );
      await query(db.url, `UPDATE accounts SET owner = 'renamed' WHERE id = 1`);
      await withAuditContext(client, { user: 'alice@example.com', ip: '10.0.0.9', reason: 'GDPR request 42' }, async (tx) => {
        await tx.query('DELETE FROM accounts WHERE id IN (2, 3)');
      });
      expect(await waitForCount(store, 8)).toBe(8);

      // The registry holds the schema under the topic's subject, and every message names it.
      const latest = await registryGet<{ id: number; schema: string }>(`/subjects/${topics.changes}-value/versions/latest`);
      expect(JSON.parse(latest.schema)).toMatchObject({ type: 'record', name: expect.any(String) });
      const messages = await readTopic(createKafkaClient(config.kafka), topics.changes, 8);
      expect(messages).toHaveLength(8);
      for (const message of messages) {
        expect(message.bytes[0]).toBe(0);
        expect(message.bytes.readInt32BE(1)).toBe(latest.id);
        expect(message.headers['content-type']).toBe(AVRO_CONTENT_TYPE);
      }

      // A SIEM that knows nothing of walaudit but the registry's address reads who deleted what.
      const siem = new SchemaRegistry({ host: registry.url });
      const events = await Promise.all(messages.map(async (message) => (await siem.decode(message.bytes)) as Record<string, any>));
      const deletes = events.filter((event) => event.op === 'delete').sort((a, b) => Number(a.pk.id) - Number(b.pk.id));
      expect(deletes.map((event) => event.pk)).toEqual([{ id: '2' }, { id: '3' }]);
      expect(JSON.parse(deletes[0]!.actor.app)).toMatchObject({ user: 'alice@example.com', ip: '10.0.0.9', reason: 'GDPR request 42' });
      expect(deletes[0]!.actor.db).toMatchObject({ user: 'postgres' });
      expect(deletes[0]!.before).toMatchObject({ ssn: '[redacted]', balance: '12345678901236.123456', seen: '2024-01-02 03:04:05.654321+00', photo: '\\x00ff10' });
      expect(deletes[0]).toMatchObject({ critical: true, after: null, retentionDays: 90 });

      // The writer decoded the same messages into entries with every value's exact text.
      const [stored] = await store.queryLog({ op: 'delete', table: 'accounts', limit: 1 });
      expect(stored!.before).toMatchObject({ id: '3', owner: 'owner 3', ssn: '[redacted]', balance: '12345678901237.123456', tags: '{a,"b c",NULL}', doc: '{"a": [true, null], "b": 1}' });
      expect(stored!.actor.app).toMatchObject({ user: 'alice@example.com', reason: 'GDPR request 42' });
      const [update] = await store.queryLog({ op: 'update', limit: 1 });
      expect(update).toMatchObject({ changed: ['owner'], after: { owner: 'renamed' } });
      const report = await verifyAuditLog(store);
      expect(report.problem).toBeNull();
      expect(report.entriesChecked).toBe(8);
    } finally {
      await client.end();
      await writer.stop();
      await reader.stop();
      await store.close();
      await db.drop();
    }
  });

  it('sends an Avro message whose schema the registry does not know to the dead-letter topic, and goes on', async () => {
    const config = kafkaTestConfig(kafka.brokers, uniqueName('avro_dlq'), { kafka: { format: 'avro', schemaRegistryUrl: registry.url, partitions: 1 } });
    const client = createKafkaClient(config.kafka);
    // No reader here to create the topics (it does, before the writers join).
    const topics = await createTestTopics(config);
    const store = await embeddedStore(uniqueName('avro_dlq'));
    const writer = await startKafkaWriter(store, config);
    const producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      // Schema id 1500: the registry's 404 says '1500', which once read as a server error (5xx).
      const unknownSchema = Buffer.from([0, 0x00, 0x00, 0x05, 0xdc, 0x02, 0x61]);
      await producer.send({ topic: topics.changes, messages: [{ key: '1', value: unknownSchema }] });
      const [dead] = await readTopic(client, topics.deadLetter, 1);
      expect(dead!.bytes.equals(unknownSchema)).toBe(true);
      expect(dead!.headers['walaudit-dead-letter-reason']).toMatch(/^Avro value that cannot be decoded/);
      expect(writer.deadLetters).toHaveLength(1);
      expect(await store.countEntries()).toBe(0);
    } finally {
      await producer.disconnect();
      await writer.stop();
      await store.close();
    }
  });

  it('leaves compatibility to the registry: a subject its owners set to FULL still takes the same schema again', async () => {
    const prefix = uniqueName('avro_full');
    const subject = `${topicNames(prefix).changes}-value`;
    const kafkaConfig = kafkaTestConfig(kafka.brokers, prefix, { kafka: { format: 'avro', schemaRegistryUrl: registry.url } }).kafka;
    const first = await changeEncoderFor(kafkaConfig, topicNames(prefix).changes);
    expect(first).toBeDefined();
    const { id } = await registryGet<{ id: number }>(`/subjects/${subject}/versions/latest`);
    const tightened = await fetch(`${registry.url}/config/${subject}`, { method: 'PUT', headers: REGISTRY_JSON, body: JSON.stringify({ compatibility: 'FULL' }) });
    expect(tightened.status).toBe(200);
    // A reader restarting against the tightened subject registers the same schema: same id, one version.
    await changeEncoderFor(kafkaConfig, topicNames(prefix).changes);
    expect(await registryGet<number[]>(`/subjects/${subject}/versions`)).toHaveLength(1);
    expect((await registryGet<{ id: number }>(`/subjects/${subject}/versions/latest`)).id).toBe(id);
    expect(await registryGet<{ compatibilityLevel: string }>(`/config/${subject}`)).toEqual({ compatibilityLevel: 'FULL' });
  });

  it('refuses to start with a registry that rejects the schema, a URL that is not its API, or none answering, and says which', async () => {
    const changes = `${uniqueName('avro_refused')}.changes`;
    // A SIEM team's subject that holds another schema, with compatibility checks on: walaudit's
    // is not a compatible evolution of it, and the registry says so.
    await fetch(`${registry.url}/subjects/${changes}-value/versions`, { method: 'POST', headers: REGISTRY_JSON, body: JSON.stringify({ schema: '{"type":"string"}' }) });
    const config = await fetch(`${registry.url}/config/${changes}-value`, { method: 'PUT', headers: REGISTRY_JSON, body: JSON.stringify({ compatibility: 'FULL' }) });
    expect(config.status).toBe(200);
    const avro = (schemaRegistryUrl: string) => kafkaTestConfig(kafka.brokers, 'unused', { kafka: { format: 'avro', schemaRegistryUrl } }).kafka;
    await expect(changeEncoderFor(avro(registry.url), changes)).rejects.toMatchObject({
      code: 'KAFKA_FAILED',
      retriable: false,
      message: expect.stringMatching(new RegExp(`^registering the change-event schema under ${changes}-value: schema registry ${registry.url}: HTTP 409: Incompatible`)),
    });

    // The registry's server without the API's path: every schema id would be a 404 later.
    const root = new URL(registry.url).origin;
    await expect(changeDecoderFor(avro(root))).rejects.toMatchObject({
      code: 'KAFKA_FAILED',
      retriable: false,
      message: expect.stringMatching(/^checking the Confluent API \(GET \/subjects\): schema registry http:\/\/127\.0\.0\.1:\d+: HTTP 404: .* \(is it the Confluent-compatible API\? /),
    });
    await expect(changeDecoderFor(avro(registry.url))).resolves.toBeDefined();

    const nowhere = `http://127.0.0.1:${await findFreePort()}`;
    for (const starting of [() => changeEncoderFor(avro(nowhere), changes), () => changeDecoderFor(avro(nowhere))]) {
      await expect(starting()).rejects.toMatchObject({ code: 'KAFKA_UNREACHABLE', retriable: true, message: expect.stringContaining(`schema registry ${nowhere}`) });
    }
  });
});
