import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLsn, verifyAuditLog, type VerifyReport } from '@walaudit/core';
import { createClickHouseStore } from '@walaudit/clickhouse';
import { createKafkaClient } from '@walaudit/kafka';
import { findFreePort, runSetup } from '@walaudit/pg';
import { startLocalKafka, type LocalKafka } from '../support/kafka.js';
import { kafkaTestConfig, readTopic, topicNames } from '../support/kafka-harness.js';
import { connect, createTestDatabase, query, uniqueName, type TestDatabase } from '../support/postgres.js';
import { localTokenOf, runWalaudit, spawnWalaudit } from '../support/walaudit-process.js';
import { tempDir } from '../support/temp-dir.js';
import { createEventsTable } from '../support/events-fixture.js';

const ROWS = 20_000;
const ROWS_PER_TX = 100;

/**
 * The real `walaudit start --mode distributed` processes, killed with SIGKILL mid-stream. One
 * broker and one topic for the file: the reader test fills the topic (with the duplicates its
 * crash causes), the writer test stores it.
 */
describe('distributed mode under SIGKILL', () => {
  let kafka: LocalKafka;
  let db: TestDatabase;
  const slot = uniqueName('kcrash');
  const prefix = uniqueName('kcrash');
  const topics = topicNames(prefix);
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    kafka = await startLocalKafka();
    db = await createTestDatabase('kcrash');
    await createEventsTable(db.url);
    await runSetup(db.url, { slot, publication: slot, tables: [], dryRun: false, log: () => {} });
    env = {
      WALAUDIT_KAFKA_BROKERS: kafka.brokers.join(','),
      WALAUDIT_KAFKA_TOPIC_PREFIX: prefix,
      WALAUDIT_KAFKA_GROUP_ID: `${prefix}-writers`,
      WALAUDIT_KAFKA_PARTITIONS: '3',
      WALAUDIT_KAFKA_SESSION_TIMEOUT_MS: '6000',
      WALAUDIT_PIPELINE_FLUSH_INTERVAL_MS: '50',
    };
  });

  afterAll(async () => {
    await db?.drop();
    await kafka?.stop();
  });

  it('reader: SIGKILL mid-stream, restart, and every change is on the topic; duplicates carry the same id and content', async () => {
    const port = await findFreePort();
    const args = ['start', '--mode', 'distributed', '--services', 'reader', '--source', db.url, '--http-port', String(port), '--slot', slot, '--publication', slot];
    // Small batches: the kill lands between acknowledged batches, with more published than confirmed.
    const first = spawnWalaudit(args, { ...env, WALAUDIT_PIPELINE_BATCH_SIZE: '500' });
    await first.waitFor((status) => status.state === 'running');
    const loader = await connect(db.url);
    const loading = loader.query('CALL load_events($1, $2)', [ROWS, ROWS_PER_TX]);
    await first.waitFor((status) => (status.kafka?.published ?? 0) >= 3_000, 120_000);
    expect(await first.kill('SIGKILL')).toBeNull();
    await loading;
    await loader.end();
    const { lsn: endLsn } = (await query<{ lsn: string }>(db.url, 'SELECT pg_current_wal_lsn()::text AS lsn'))[0]!;

    const second = spawnWalaudit(args, env);
    await second.waitFor((status) => status.confirmedLsn !== null && parseLsn(status.confirmedLsn) >= parseLsn(endLsn), 180_000);
    await second.stop('SIGTERM');

    const client = createKafkaClient(kafkaTestConfig(kafka.brokers, prefix).kafka);
    const admin = client.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topics.changes);
    await admin.disconnect();
    const total = offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
    expect(total).toBeGreaterThanOrEqual(ROWS);
    const messages = await readTopic(client, topics.changes, total, 120_000);
    expect(messages).toHaveLength(total);
    const byId = new Map<string, string>();
    for (const message of messages) {
      const id = message.headers['walaudit-event-id']!;
      const seen = byId.get(id);
      if (seen !== undefined) expect(message.value).toBe(seen);
      byId.set(id, message.value);
    }
    expect(byId.size).toBe(ROWS);
  });

  it('writer: SIGKILL mid-batch, restart, and every event is stored exactly once with intact chains', async () => {
    const dataDir = tempDir('kcrash-store');
    const port = await findFreePort();
    const args = ['start', '--mode', 'distributed', '--services', 'writer', '--data-dir', dataDir, '--http-port', String(port)];
    const writerEnv = { ...env, WALAUDIT_PIPELINE_BATCH_SIZE: '500' };
    const first = spawnWalaudit(args, writerEnv);
    await first.waitFor((status) => status.entriesStored >= 4_000, 120_000);
    expect(await first.kill('SIGKILL')).toBeNull();

    const second = spawnWalaudit(args, writerEnv);
    await second.waitFor((status) => status.state === 'running');
    const deadline = Date.now() + 180_000;
    for (;;) {
      const report = (await (await fetch(`http://127.0.0.1:${port}/api/verify`, { headers: { authorization: `Bearer ${localTokenOf(dataDir)}` } })).json()) as VerifyReport;
      if (report.entriesChecked >= ROWS || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await second.waitFor((status) => status.kafka?.consumerLag === 0, 60_000);
    await second.stop('SIGTERM');

    const store = createClickHouseStore({ dataDir, database: 'walaudit' });
    try {
      // Without FINAL: a replayed copy would count until a merge removes it.
      const { rows } = (await store.select<{ rows: string }>(`SELECT toString(count()) AS rows FROM ${store.table('audit_log')}`))[0]!;
      expect(Number(rows)).toBe(ROWS);
      const report = await verifyAuditLog(store);
      expect(report.problem).toBeNull();
      expect(report.entriesChecked).toBe(ROWS);
      expect(report.chains.length).toBeGreaterThan(1);
    } finally {
      await store.close();
    }
  });

  it('writer: the consumer lag shows in walaudit status and /metrics while the writer is behind, and drains to 0', async () => {
    const dataDir = tempDir('kcrash-lag');
    const port = await findFreePort();
    // A new group reads the whole topic; tiny inserts keep the writer behind for a while.
    const lagEnv = { ...env, WALAUDIT_KAFKA_GROUP_ID: `${prefix}-lag`, WALAUDIT_PIPELINE_BATCH_SIZE: '20' };
    const writer = spawnWalaudit(['start', '--mode', 'distributed', '--services', 'writer', '--data-dir', dataDir, '--http-port', String(port)], lagEnv);
    try {
      const behind = await writer.waitFor((status) => (status.kafka?.consumerLag ?? 0) > 0, 60_000);
      expect(behind.kafka!.partitions.length).toBe(3);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const lags = [...metrics.matchAll(/^walaudit_kafka_consumer_lag\{partition="(\d)"\} (\d+)$/gm)].map((match) => Number(match[2]));
      expect(lags).toHaveLength(3);
      expect(lags.reduce((sum, lag) => sum + lag, 0)).toBeGreaterThan(0);
      const text = await runWalaudit(['status', '--http-port', String(port)]);
      expect(text.stdout).toMatch(/kafka {4}writer in group .*-lag: partitions 0,1,2, consumer lag \d+, 0 dead letters/);
      await writer.waitFor((status) => status.kafka?.consumerLag === 0, 180_000);
    } finally {
      await writer.kill('SIGTERM');
    }
  });

  /** `start --services all` on a slot, topics and group of its own; `common`: the flags that reach it. */
  const startAllServices = async (name: string) => {
    const ownPrefix = uniqueName(name);
    const ownSlot = uniqueName(name);
    await runSetup(db.url, { slot: ownSlot, publication: ownSlot, tables: [], dryRun: false, log: () => {} });
    const common = ['--http-port', String(await findFreePort()), '--slot', ownSlot, '--publication', ownSlot];
    const ownEnv = { ...env, WALAUDIT_KAFKA_TOPIC_PREFIX: ownPrefix, WALAUDIT_KAFKA_GROUP_ID: `${ownPrefix}-writers` };
    const walaudit = spawnWalaudit(['start', '--mode', 'distributed', '--services', 'all', '--source', db.url, '--data-dir', tempDir(name), ...common], ownEnv);
    return { walaudit, common, prefix: ownPrefix };
  };

  it('--services all runs the reader and a writer in one process; status, log and verify answer as for standalone', async () => {
    const { walaudit, common, prefix: allPrefix } = await startAllServices('kall');
    try {
      await walaudit.waitFor((status) => status.state === 'running' && (status.kafka?.partitions.length ?? 0) === 3, 60_000);
      await query(db.url, `INSERT INTO events SELECT g, 'all' FROM generate_series(1000000, 1000004) g`);
      await query(db.url, `DELETE FROM events WHERE id >= 1000000`);
      const status = await walaudit.waitFor((current) => current.entriesStored >= 10, 60_000);
      expect(status.kafka).toMatchObject({ services: ['reader', 'writer'], published: 10, topic: `${allPrefix}.changes` });
      const log = await runWalaudit(['log', '--json', '--op', 'delete', ...common]);
      expect(log.code).toBe(0);
      const deletes = log.stdout.trim().split('\n').map((line) => JSON.parse(line));
      expect(deletes.map((entry) => entry.pk.id)).toEqual(['1000004', '1000003', '1000002', '1000001', '1000000']);
      // One transaction, one partition, one chain: newest first, each links to the one before it
      // (an absent partition is 0).
      expect(new Set(deletes.map((entry) => entry.partition ?? 0)).size).toBe(1);
      for (let i = 0; i < deletes.length - 1; i++) expect(deletes[i].prevHash).toBe(deletes[i + 1].hash);
      const verify = await runWalaudit(['verify', ...common]);
      expect(verify.code).toBe(0);
      expect(verify.stdout).toMatch(/^audit log intact: 10 entries verified/);
      const text = await runWalaudit(['status', ...common]);
      expect(text.stdout).toContain(`kafka    reader: 10 published to ${allPrefix}.changes`);
    } finally {
      await walaudit.stop('SIGTERM');
    }
  });
  it('--services all stopped with SIGTERM while it is still connecting or joining exits 0 and leaves nothing running', async () => {
    // The HTTP API answers before the services have connected to Kafka and Postgres; the delays
    // land the signal in the connects, the topic creation and the writers' group join.
    for (const delayMs of [0, 150, 400]) {
      const { walaudit } = await startAllServices('kstop');
      await walaudit.waitFor(() => true, 60_000);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const stopped = walaudit.stop('SIGTERM');
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still running 30 s after SIGTERM (${delayMs} ms after the API answered):\n${walaudit.stderr()}`)), 30_000));
      try {
        await Promise.race([stopped, timeout]);
      } finally {
        walaudit.child.kill('SIGKILL');
      }
    }
  });
});
