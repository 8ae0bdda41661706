import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, verifyAuditLog, type PipelineStatus } from '@walaudit/core';
import { createPipelineMetrics, newApiToken, startApiServer } from '@walaudit/api';
import { createKafkaClient } from '@walaudit/kafka';
import { runSetup } from '@walaudit/pg';
import { createLogger } from '../../services/cli/src/logger.js';
import { createKafkaMetrics } from '../../services/cli/src/pipelines/distributed/kafka-metrics.js';
import { ServiceState } from '../../services/cli/src/pipelines/distributed/service-state.js';
import { createWriterService } from '../../services/cli/src/pipelines/distributed/writer-service.js';
import { startLocalKafka, type LocalKafka } from '../support/kafka.js';
import { kafkaTestConfig, startKafkaReader, topicNames } from '../support/kafka-harness.js';
import { embeddedStore, storeWithOutage } from '../support/pipeline-harness.js';
import { createTestDatabase, query, uniqueName } from '../support/postgres.js';
import { runWalaudit } from '../support/walaudit-process.js';

/**
 * The "ClickHouse outage" guarantee for distributed mode. There is no ClickHouse server on
 * this machine to take down, so the distributed writer (the CLI's own writer service, in this
 * process) stores into the real embedded store behind a switch that makes inserts fail as an
 * unreachable server does; the broker, the reader and the Postgres slot are real.
 */
let kafka: LocalKafka;

beforeAll(async () => {
  kafka = await startLocalKafka();
});

afterAll(async () => {
  await kafka?.stop();
});

async function waitFor<T>(what: string, probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const lagsIn = (metrics: string) => [...metrics.matchAll(/^walaudit_kafka_consumer_lag\{partition="(\d+)"\} (\d+)$/gm)].map((match) => Number(match[2]));

describe('distributed writer during a ClickHouse outage', () => {
  it('holds its partitions and offsets while the store fails, shows the lag, and stores everything once when it is back', async () => {
    const db = await createTestDatabase('kafka_outage');
    const slot = uniqueName('kafka_outage');
    await query(db.url, 'CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)');
    await runSetup(db.url, { slot, publication: slot, tables: [], dryRun: false, log: () => {} });
    const prefix = uniqueName('outage');
    const config = kafkaTestConfig(kafka.brokers, prefix, { source: { slot, publication: slot }, pipeline: { batchSize: 100 } });
    const topics = topicNames(prefix);

    const real = await embeddedStore(uniqueName('kafka_outage'));
    const outage = storeWithOutage(real);

    const metrics = createPipelineMetrics();
    const kafkaMetrics = createKafkaMetrics(metrics.registry);
    const state = new ServiceState(config, ['writer'], metrics, '(none: writer only)', 'embedded (outage switch)');
    // Retry warnings would flood the test output: one per attempt during the outage.
    const writer = createWriterService({ config, store: outage.store, metrics, kafkaMetrics, state, log: createLogger('outage', 'error') });
    const { token } = newApiToken();
    const http = parseConfig({ http: { host: '127.0.0.1', port: 0 } }).http;
    const api = await startApiServer({ http, localToken: { token, file: '(test)' }, status: () => state.status(), store: real, registry: metrics.registry });
    let writerFailure: unknown = null;
    const running = writer.run().catch((error: unknown) => (writerFailure = error));
    const status = async () => (await (await fetch(`http://127.0.0.1:${api.port}/api/status`, { headers: { authorization: `Bearer ${token}` } })).json()) as PipelineStatus;
    const metricsText = async () => (await fetch(`http://127.0.0.1:${api.port}/metrics`)).text();

    const admin = createKafkaClient(config.kafka).admin();
    await admin.connect();
    const reader = await startKafkaReader(db.url, config);
    try {
      await waitFor('the writer to own the 4 partitions', status, (s) => s.kafka?.partitions.length === 4);
      const groupBefore = (await admin.describeGroups([config.kafka.groupId])).groups[0]!;
      expect(groupBefore.members).toHaveLength(1);

      // 500 rows in one transaction, 50 transactions of 2 (their xids spread them over the
      // partitions), and an update of 10: 610 events.
      await query(db.url, `INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 500) g`);
      for (let tx = 0; tx < 50; tx++) await query(db.url, `INSERT INTO items SELECT g, 'small' FROM generate_series($1::int, $1::int + 1) g`, [501 + tx * 2]);
      await query(db.url, `UPDATE items SET name = name || '!' WHERE id <= 10`);
      const total = 610;

      const outageStart = Date.now();
      const behind = await waitFor('the whole backlog to show as consumer lag', status, (s) => s.kafka?.consumerLag === total);
      expect(behind.state).toBe('retrying');
      expect(behind.lastError?.code).toBe('STORE_UNREACHABLE');
      expect(behind.entriesStored).toBe(0);
      // Down for longer than the session timeout: only heartbeats during the retries keep the writer
      // in the group.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, config.kafka.sessionTimeoutMs * 1.5 - (Date.now() - outageStart))));

      expect(outage.failedInserts).toBeGreaterThan(2);
      expect(await real.countEntries()).toBe(0);
      const committed = (await admin.fetchOffsets({ groupId: config.kafka.groupId, topics: [topics.changes] }))[0]!;
      expect(committed.partitions.every((p) => p.offset === '-1')).toBe(true);
      const endOffsets = await admin.fetchTopicOffsets(topics.changes);
      expect(endOffsets.reduce((sum, p) => sum + Number(p.high), 0)).toBe(total);

      const during = await metricsText();
      const lags = lagsIn(during);
      expect(lags).toHaveLength(4);
      expect(lags.reduce((sum, lag) => sum + lag, 0)).toBe(total);
      expect(during).toMatch(/^walaudit_up 0$/m);
      expect(Number(/^walaudit_store_retries_total (\d+)$/m.exec(during)?.[1])).toBeGreaterThan(2);
      expect(during).toMatch(/^walaudit_errors_total\{code="STORE_UNREACHABLE"\} [1-9]/m);
      const text = await runWalaudit(['status', '--http-port', String(api.port), '--token', token]);
      expect(text.stdout).toContain('walaudit retrying since');
      expect(text.stdout).toContain('STORE_UNREACHABLE');
      expect(text.stdout).toContain(`partitions 0,1,2,3, consumer lag ${total}, 0 dead letters`);

      // Still the same member of a stable group: it neither crashed nor left, nothing moved.
      const groupDuring = (await admin.describeGroups([config.kafka.groupId])).groups[0]!;
      expect(groupDuring.state).toBe('Stable');
      expect(groupDuring.members.map((m) => m.memberId)).toEqual(groupBefore.members.map((m) => m.memberId));
      expect((await status()).kafka?.partitions).toEqual([0, 1, 2, 3]);
      expect(writerFailure).toBeNull();

      outage.down = false;
      const after = await waitFor('the backlog to drain', status, (s) => s.kafka?.consumerLag === 0 && s.entriesStored >= total, 120_000);
      expect(after.state).toBe('running');
      expect(after.entriesStored).toBe(total);
      const drained = (await admin.fetchOffsets({ groupId: config.kafka.groupId, topics: [topics.changes] }))[0]!;
      const endBy = new Map(endOffsets.map((p) => [p.partition, p.high]));
      for (const p of drained.partitions) expect(p.offset).toBe(endBy.get(p.partition));
      expect(lagsIn(await metricsText()).reduce((sum, lag) => sum + lag, 0)).toBe(0);

      // Exactly once: counted without FINAL, so a second copy would show until a merge.
      const clickhouse = real;
      const [counts] = await clickhouse.select<{ rows: string; ids: string }>(
        `SELECT toString(count()) AS rows, toString(uniqExact(id)) AS ids FROM ${clickhouse.table('audit_log')}`,
      );
      expect({ rows: Number(counts?.rows), ids: Number(counts?.ids) }).toEqual({ rows: total, ids: total });
      const report = await verifyAuditLog(real);
      expect(report.problem).toBeNull();
      expect(report.entriesChecked).toBe(total);
      expect(report.chains.length).toBeGreaterThan(1);
      expect(writerFailure).toBeNull();
    } finally {
      await reader.stop();
      await writer.stop();
      await running;
      await admin.disconnect();
      await api.close();
      await real.close();
    }
  });
});
