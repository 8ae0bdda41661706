import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { Alert } from '@walaudit/core';
import { createKafkaClient } from '@walaudit/kafka';
import { findFreePort, runSetup } from '@walaudit/pg';
import { startLocalKafka, type LocalKafka } from '../support/kafka.js';
import { kafkaTestConfig, readTopic } from '../support/kafka-harness.js';
import { startLocalRedis, type LocalRedis } from '../support/redis.js';
import { startHttpPeer, type HttpPeer } from '../support/alert-peers.js';
import { createTestDatabase, uniqueName, type TestDatabase } from '../support/postgres.js';
import { runWalaudit, spawnWalaudit, type WalauditProcess } from '../support/walaudit-process.js';
import { tempDir } from '../support/temp-dir.js';
import { CASCADE_DDL, CASCADE_FILL_ENTRIES, fillCascadeData } from '../support/cascade-fixture.js';

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
    if (walaudit) expect(await walaudit.kill('SIGTERM')).toBe(0);
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
    const metrics = await (await fetch(`http://127.0.0.1:${env.WALAUDIT_HTTP_PORT}/metrics`)).text();
    expect(metrics).toMatch(/walaudit_alert_deliveries_total\{channel="kafka",outcome="delivered"\} [1-9]/);
    expect(metrics).toMatch(/walaudit_alert_deliveries_total\{channel="webhook",outcome="delivered"\} [1-9]/);

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
    let tree = '';
    for (let i = 0; i < 100 && !tree.includes('10 rows removed, 1 set to NULL'); i++) {
      tree = (await runWalaudit(['log', '--caused-by', rootId], env)).stdout;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const lines = tree.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^DELETE public.customers id=1  xid \\d+  .*  id ${rootId}$`));
    expect(tree).toMatch(/├─ public\.orders id=10  CASCADE by orders_customer_id_fkey  id /);
    expect(tree).toMatch(/│  [├└]─ public\.notes id=5  SET NULL by notes_order_id_fkey  id /);
    expect(tree).toMatch(/│ {5}└─ public\.folders id=3  CASCADE by folders_parent_id_fkey/);
    expect(lines.at(-1)).toBe('10 rows removed, 1 set to NULL because of this entry');
  });
});
