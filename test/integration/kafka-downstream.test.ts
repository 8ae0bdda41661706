import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { Alert } from '@walaudit/core';
import { createKafkaClient } from '@walaudit/kafka';
import { findFreePort, runSetup, withAuditContext } from '@walaudit/pg';
import { startLocalKafka, type LocalKafka } from '../support/kafka.js';
import { kafkaTestConfig, readTopic, startKafkaReader, startKafkaWriter } from '../support/kafka-harness.js';
import { embeddedStores } from '../support/pipeline-harness.js';
import { startDistributedObservers } from '../../services/cli/src/pipelines/distributed/distributed-observers.js';
import { createLogger } from '../../services/cli/src/logger.js';
import { Registry } from 'prom-client';
import { startLocalRedis, type LocalRedis } from '../support/redis.js';
import { startHttpPeer, type HttpPeer } from '../support/alert-peers.js';
import { createTestDatabase, uniqueName, type TestDatabase } from '../support/postgres.js';
import { runWalaudit, spawnWalaudit, type WalauditProcess } from '../support/walaudit-process.js';
import { tempDir } from '../support/temp-dir.js';
import { CASCADE_DDL, CASCADE_FILL_ENTRIES, fillCascadeData, CUSTOMER_1_TREE_SUMMARY, cascadeTreeOf } from '../support/cascade-fixture.js';

/**
 * Alerts and cascade links in distributed mode: the real `walaudit start --mode distributed
 * --services all` (reader -> Kafka -> writer), with alert windows in Redis as several writers would
 * share them. One broker for the file.
 */
describe('distributed mode: alerter and correlator beside the writers', () => {
  let kafka: LocalKafka;
  let redis: LocalRedis;
  let webhook: HttpPeer;
  let db: TestDatabase;
  let admin: pg.Client;
  let walaudit: WalauditProcess;
  let env: NodeJS.ProcessEnv;
  const prefix = uniqueName('kdown');

  beforeAll(async () => {
    [kafka, redis, webhook, db] = await Promise.all([startLocalKafka(), startLocalRedis(), startHttpPeer(), createTestDatabase('kdown')]);
    admin = new pg.Client({ connectionString: db.url, application_name: 'psql' });
    await admin.connect();
    await admin.query(CASCADE_DDL);
    await admin.query('CREATE TABLE invoices (id int PRIMARY KEY, total numeric)');
    const slot = uniqueName('kdown');
    await runSetup(db.url, { slot, publication: slot, tables: [], dryRun: false, log: () => {} });
    env = {
      WALAUDIT_HTTP_PORT: String(await findFreePort()),
      WALAUDIT_SOURCE_SLOT: slot,
      WALAUDIT_SOURCE_PUBLICATION: slot,
      WALAUDIT_KAFKA_BROKERS: kafka.brokers.join(','),
      WALAUDIT_KAFKA_TOPIC_PREFIX: prefix,
      WALAUDIT_KAFKA_GROUP_ID: `${prefix}-writers`,
      WALAUDIT_KAFKA_PARTITIONS: '3',
      WALAUDIT_KAFKA_SESSION_TIMEOUT_MS: '6000',
      WALAUDIT_PIPELINE_FLUSH_INTERVAL_MS: '50',
      WALAUDIT_ALERTS_WEBHOOK_URL: webhook.url,
      WALAUDIT_ALERTS_THRESHOLD: '100',
      WALAUDIT_ALERTS_WINDOW_STORE: 'redis',
      WALAUDIT_ALERTS_REDIS_URL: redis.url,
    };
    walaudit = spawnWalaudit(['start', '--mode', 'distributed', '--services', 'all', '--source', db.url, '--data-dir', tempDir('kdown')], env);
    await walaudit.waitFor((status) => status.state === 'running' && (status.kafka?.partitions.length ?? 0) === 3, 90_000);
  });

  afterAll(async () => {
    if (walaudit) await walaudit.stop('SIGTERM');
    await admin?.end();
    await Promise.all([kafka?.stop(), redis?.stop(), webhook?.close()]);
    await db?.drop();
  });

  it('a bulk DELETE raises exactly one alert: on the webhook, on <prefix>.alerts keyed by its id, and in /metrics', async () => {
    await admin.query('INSERT INTO invoices SELECT g, g FROM generate_series(1, 400) g');
    // Two transactions (two xids: likely two partitions) by one actor: one window in Redis.
    await admin.query('DELETE FROM invoices WHERE id <= 60');
    await admin.query('DELETE FROM invoices WHERE id > 60 AND id <= 150');
    await walaudit.waitFor((status) => status.entriesStored >= 550, 60_000);
    const [body] = (await webhook.waitFor(1)) as { event: string; alert: Alert }[];
    expect(body).toMatchObject({ event: 'raised', alert: { kind: 'bulk-delete', actor: { applicationName: 'psql' }, window: { threshold: 100 } } });

    // The Kafka channel has delivered (and so created the topic) before a consumer subscribes.
    let metrics = '';
    await waitUntil(async () => {
      metrics = await (await fetch(`http://127.0.0.1:${env.WALAUDIT_HTTP_PORT}/metrics`)).text();
      return /walaudit_alert_deliveries_total\{channel="kafka",outcome="delivered"\} [1-9]/.test(metrics);
    }, 30_000, () => metrics.split('\n').filter((line) => line.startsWith('walaudit_alert_deliver')).join('\n'));
    expect(metrics).toMatch(/walaudit_alert_deliveries_total\{channel="webhook",outcome="delivered"\} [1-9]/);
    const client = createKafkaClient(kafkaTestConfig(kafka.brokers, prefix).kafka);
    const messages = await readTopic(client, `${prefix}.alerts`, 1, 30_000);
    expect(messages.length).toBeGreaterThanOrEqual(1);
    const published = messages.map((message) => ({ key: message.key, headers: message.headers, value: JSON.parse(message.value) as { event: string; text: string; alert: Alert } }));
    const raised = published.filter((message) => message.value.event === 'raised');
    expect(raised).toHaveLength(1);
    expect(raised[0]!.key).toBe(body!.alert.id);
    expect(raised[0]!.value.alert.id).toBe(body!.alert.id);
    expect(raised[0]!.value.text).toContain(`alert ${body!.alert.id}`);
    expect(raised[0]!.headers).toMatchObject({ 'content-type': 'application/json', 'walaudit-schema': 'alert', 'walaudit-schema-version': '1', 'walaudit-alert-event': 'raised' });
    // Any update of the same alert shares its key (and partition).
    for (const message of published) expect(message.key).toBe(body!.alert.id);

    // Exactly one alert, whichever partition each transaction went to.
    const listed = await runWalaudit(['alerts', '--json'], env);
    expect(listed.code).toBe(0);
    const alerts = listed.stdout.trim().split('\n').map((line) => JSON.parse(line) as Alert);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ id: body!.alert.id, rows: 150, transactions: 2 });

    // The acknowledgement goes through the running writer: it is published too, with the same key.
    const ack = await runWalaudit(['alerts', 'ack', body!.alert.id, '--by', 'dana', '--note', 'purge'], env);
    expect(ack.code).toBe(0);
    const after = await readTopic(client, `${prefix}.alerts`, published.length + 1, 30_000);
    const acknowledged = after.filter((message) => JSON.parse(message.value).event === 'acknowledged');
    expect(acknowledged).toHaveLength(1);
    expect(acknowledged[0]!.key).toBe(body!.alert.id);
    expect(JSON.parse(acknowledged[0]!.value).alert).toMatchObject({ status: 'acknowledged', acknowledgement: { by: 'dana', note: 'purge' } });
  });

  it('a cascade delete through Kafka gets its cascade links: walaudit log --caused-by prints the tree', async () => {
    const before = (await walaudit.status())!.entriesStored;
    await fillCascadeData(admin);
    await walaudit.waitFor((status) => status.entriesStored >= before + CASCADE_FILL_ENTRIES, 60_000);
    await admin.query('DELETE FROM customers WHERE id = 1');
    await walaudit.waitFor((status) => status.entriesStored >= before + CASCADE_FILL_ENTRIES + 12, 60_000);
    const rootId = (JSON.parse((await runWalaudit(['log', '--table', 'customers', '--op', 'delete', '--limit', '1', '--json'], env)).stdout) as { id: string }).id;
    const tree = await cascadeTreeOf(rootId, (args) => runWalaudit(args, env));
    const lines = tree.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^DELETE public.customers id=1  xid \\d+  .*  id ${rootId}$`));
    expect(tree).toMatch(/├─ public\.orders id=10  CASCADE by orders_customer_id_fkey  id /);
    expect(tree).toMatch(/│  [├└]─ public\.notes id=5  SET NULL by notes_order_id_fkey  id /);
    expect(tree).toMatch(/│ {5}└─ public\.folders id=3  CASCADE by folders_parent_id_fkey/);
    expect(lines.at(-1)).toBe(CUSTOMER_1_TREE_SUMMARY);
  });

  it('two writers, each with its alerter, share the Redis window: one actor\'s transactions on both writers raise exactly one alert', async () => {
    // A Redis of its own: the `start` process above audits the same database (its own slot) and
    // would count carol's deletions into the same shared windows.
    const [hook, windows] = await Promise.all([startHttpPeer(), startLocalRedis()]);
    const groupPrefix = uniqueName('kdown2');
    const slot = uniqueName('kdown2');
    await admin.query('CREATE TABLE receipts (id int PRIMARY KEY, total numeric); INSERT INTO receipts SELECT g, g FROM generate_series(1, 300) g');
    await runSetup(db.url, { slot, publication: slot, tables: [], dryRun: false, log: () => {} });
    const config = kafkaTestConfig(kafka.brokers, groupPrefix, {
      source: { url: db.url, slot, publication: slot },
      alerts: { webhookUrl: hook.url, threshold: 100, windowStore: 'redis', redisUrl: windows.url },
      cascade: { links: false },
    });
    const database = uniqueName('kdown2');
    const stores = await embeddedStores(database);
    const store = stores.audit;
    const log = createLogger('kdown2', 'error');
    const downstream = await Promise.all([0, 1].map(() => startDistributedObservers(config, stores, new Registry(), log)));
    const reader = await startKafkaReader(db.url, config);
    const writers = await Promise.all(downstream.map((observers) => startKafkaWriter(store, config, { observers: observers.observers })));
    try {
      await waitUntil(() => writers.every((writer) => writer.assigned().length > 0) && writers[0]!.assigned().length + writers[1]!.assigned().length === 4);
      // Ten transactions of 15 rows each by one application user (an actor of its own: the Redis
      // windows outlive the tests above): ten xids, spread over the partitions of both writers.
      for (let tx = 0; tx < 10; tx++) {
        await withAuditContext(admin, { user: 'carol@example.com' }, (client) => client.query('DELETE FROM receipts WHERE id > $1 AND id <= $2', [tx * 15, tx * 15 + 15]));
      }
      // Each writer sends its own notifications: the other writer's "updated" may arrive first.
      const bodies = hook.bodies as { event: string; alert: Alert }[];
      await waitUntil(() => bodies.some((item) => item.event === 'raised'));
      expect(bodies.find((item) => item.event === 'raised')).toMatchObject({ alert: { kind: 'bulk-delete', actor: { name: 'carol@example.com' } } });
      expect(new Set(bodies.map((item) => item.alert.id)).size).toBe(1);
      await waitUntil(async () => Number((await store.select<{ n: string }>(`SELECT toString(count()) AS n FROM \`${database}\`.audit_log WHERE op = 'delete'`))[0]!.n) === 150);
      const partitions = (await store.select<{ p: number }>(`SELECT DISTINCT chain_partition AS p FROM \`${database}\`.audit_log WHERE op = 'delete'`)).map((row) => Number(row.p));
      // The deletions were stored by both writers: each alerter saw only part of them.
      for (const writer of writers) expect(partitions.some((partition) => writer.assigned().includes(partition))).toBe(true);
      // Both alerters settle (updates are coalesced, then sent): still one alert, now with every row.
      let carols: Alert[] = [];
      await waitUntil(async () => {
        carols = (await downstream[0]!.alerter!.list({ limit: 100 })).filter((alert) => alert.actor.name === 'carol@example.com');
        return carols.length === 1 && carols[0]!.rows === 150;
      }, 30_000, () => JSON.stringify(carols.map((alert) => ({ id: alert.id, version: alert.version, rows: alert.rows, transactions: alert.transactions }))));
      expect(hook.bodies.filter((item) => (item as { event: string }).event === 'raised')).toHaveLength(1);
    } finally {
      await Promise.all(writers.map((writer) => writer.stop()));
      await reader.stop();
      await Promise.all(downstream.map((observers) => observers.close()));
      await Promise.all([hook.close(), windows.stop()]);
    }
  });
});

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs = 60_000, last: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for the condition ${last()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
