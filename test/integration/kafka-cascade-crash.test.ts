import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StoredBatchObserver } from '@walaudit/core';
import pg from 'pg';
import type { AuditStore, CascadeLink, WalauditConfig } from '@walaudit/core';
import { ClickHouseCascadeLinks, clickHouseStoreBundle, type ClickHouseStore } from '@walaudit/clickhouse';
import { createPipelineMetrics } from '@walaudit/api';
import { findFreePort, runSetup } from '@walaudit/pg';
import { createLogger } from '../../services/cli/src/logger.js';
import { createKafkaMetrics } from '../../services/cli/src/pipelines/distributed/kafka-metrics.js';
import { ServiceState } from '../../services/cli/src/pipelines/distributed/service-state.js';
import { createWriterService } from '../../services/cli/src/pipelines/distributed/writer-service.js';
import { startDistributedObservers } from '../../services/cli/src/pipelines/distributed/distributed-observers.js';
import { startLocalKafka, type LocalKafka } from '../support/kafka.js';
import { kafkaTestConfig, startKafkaReader } from '../support/kafka-harness.js';
import { embeddedStore, storeWithOutage } from '../support/pipeline-harness.js';
import { CASCADE_DDL, CASCADE_FILL_ENTRIES, CUSTOMER_1_PARENTS, CUSTOMER_1_TREE_SUMMARY, cascadeTreeOf, customer1Parents, fillCascadeData } from '../support/cascade-fixture.js';
import { createTestDatabase, uniqueName, type TestDatabase } from '../support/postgres.js';
import { runWalaudit, spawnWalaudit } from '../support/walaudit-process.js';
import { tempDir } from '../support/temp-dir.js';

/** Deleting customer 1: the root, 10 cascaded deletes and 1 SET NULL update, in one transaction. */
const DELETE_ENTRIES = 12;
/** Events per insert (and per reader send): the cascade spans three chunks. */
const BATCH = 5;

/**
 * Cascade links in distributed mode when the writer holding a cascade's partition dies or hands
 * the partition over in the middle of it. The correlator of the partition links a chunk after
 * the chunk is stored; the next writer gets the uncommitted messages again and finds their
 * entries already stored. Real broker, Postgres and chDB; one broker for the file.
 */
describe('distributed cascade links across a writer crash or handover', () => {
  let kafka: LocalKafka;

  beforeAll(async () => {
    kafka = await startLocalKafka();
  });

  afterAll(async () => {
    await kafka?.stop();
  });

  async function cascadeSource(name: string): Promise<{ db: TestDatabase; admin: pg.Client; config: WalauditConfig }> {
    const db = await createTestDatabase(name);
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query(CASCADE_DDL);
    const slot = uniqueName(name);
    await runSetup(db.url, { slot, publication: slot, tables: [], dryRun: false, log: () => {} });
    const config = kafkaTestConfig(kafka.brokers, uniqueName(name), { source: { url: db.url, slot, publication: slot }, pipeline: { batchSize: BATCH }, kafka: { partitions: 3 } });
    return { db, admin, config };
  }

  it('writer: SIGKILL after storing the first chunk of a cascade and before its links; the restarted writer links every row as without the crash', async () => {
    const { db, admin, config } = await cascadeSource('kcasc_kill');
    const reader = await startKafkaReader(db.url, config);
    const port = await findFreePort();
    const dataDir = tempDir('kcasc-kill');
    const env = {
      WALAUDIT_KAFKA_BROKERS: kafka.brokers.join(','),
      WALAUDIT_KAFKA_TOPIC_PREFIX: config.kafka.topicPrefix,
      WALAUDIT_KAFKA_GROUP_ID: config.kafka.groupId,
      WALAUDIT_KAFKA_PARTITIONS: '3',
      WALAUDIT_KAFKA_SESSION_TIMEOUT_MS: '6000',
      WALAUDIT_PIPELINE_FLUSH_INTERVAL_MS: '50',
      WALAUDIT_PIPELINE_BATCH_SIZE: String(BATCH),
      WALAUDIT_PIPELINE_RETRY_MAX_MS: '500',
    };
    const writerArgs = (source: string) => ['start', '--mode', 'distributed', '--services', 'writer', '--source', source, '--data-dir', dataDir, '--http-port', String(port)];
    const cli = (args: string[]) => runWalaudit([...args, '--http-port', String(port)], env);
    try {
      // A first writer stores the fill, so the next writer's first batch is the delete.
      await fillCascadeData(admin);
      const filler = spawnWalaudit(writerArgs(db.url), env);
      await filler.waitFor((status) => status.entriesStored >= CASCADE_FILL_ENTRIES && status.kafka?.consumerLag === 0, 90_000);
      await filler.stop('SIGTERM');

      await admin.query('DELETE FROM customers WHERE id = 1');
      // Its correlator cannot read the foreign keys (nothing listens there): the writer stores
      // the first chunk of the cascade, then waits, retrying, before linking it.
      const nowhere = `postgresql://postgres@127.0.0.1:${await findFreePort()}/none`;
      const doomed = spawnWalaudit(writerArgs(nowhere), env);
      await doomed.waitFor((status) => status.entriesStored >= BATCH, 90_000);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect((await doomed.status())!.entriesStored).toBe(BATCH);
      expect(doomed.stderr()).toContain('cannot read the foreign keys');
      const rootId = (JSON.parse((await cli(['log', '--table', 'customers', '--op', 'delete', '--limit', '1', '--json'])).stdout) as { id: string }).id;
      expect((await cli(['log', '--caused-by', rootId, '--json'])).stdout.trim()).toBe('');
      expect(await doomed.kill('SIGKILL')).toBeNull();

      const restarted = spawnWalaudit(writerArgs(db.url), env);
      try {
        // The first chunk comes back as replays (stored, so not stored again); the rest is new.
        await restarted.waitFor((status) => status.entriesStored >= DELETE_ENTRIES - BATCH && status.kafka?.consumerLag === 0, 90_000);
        const tree = await cascadeTreeOf(rootId, cli);
        const links = (await cli(['log', '--caused-by', rootId, '--json'])).stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as CascadeLink);
        expect(customer1Parents(links, rootId)).toEqual(CUSTOMER_1_PARENTS);
        // The root, one line per row (none twice), the summary.
        expect(tree.trim().split('\n')).toHaveLength(1 + Object.keys(CUSTOMER_1_PARENTS).length + 1);
        expect(tree.trim().split('\n').at(-1)).toBe(CUSTOMER_1_TREE_SUMMARY);
        expect((await restarted.status())!.entriesStored).toBe(DELETE_ENTRIES - BATCH);
      } finally {
        await restarted.stop('SIGTERM');
      }
    } finally {
      await reader.stop();
      await admin.end();
      await db.drop();
    }
  });

  it('partition handed over in the middle of a cascade: the next writer links the rest from the head its predecessor stored and linked', async () => {
    const { db, admin, config } = await cascadeSource('kcasc_hand');
    const real = await embeddedStore(uniqueName('kcasc_hand'));
    const links = new ClickHouseCascadeLinks(real);
    const outage = storeWithOutage(real);
    outage.down = false;
    const reader = await startKafkaReader(db.url, config);
    // After the batch holding the root delete is stored and linked, the store goes away: that
    // batch's offsets are committed, the rest of the cascade waits.
    const cutAfterRoot: StoredBatchObserver = (stored) => {
      if (stored.some(({ event }) => event.table === 'customers' && event.op === 'delete')) outage.down = true;
    };
    const first = await startWriter(config, outage.store, real, { after: [cutAfterRoot] });
    let second: Awaited<ReturnType<typeof startWriter>> | null = null;
    try {
      await fillCascadeData(admin);
      await waitUntil('the fill to be stored', async () => (await real.countEntries()) >= CASCADE_FILL_ENTRIES);
      await admin.query('DELETE FROM customers WHERE id = 1');
      await waitUntil('the store to refuse the rest of the cascade', async () => outage.failedInserts > 0);
      const [root] = await real.queryLog({ table: 'customers', op: 'delete', limit: 1 });
      const head = await links.linksCausedBy(root!.id);
      expect(await real.countEntries()).toBeLessThan(CASCADE_FILL_ENTRIES + DELETE_ENTRIES);
      expect(head.length).toBeGreaterThan(0);
      expect(head.length).toBeLessThan(Object.keys(CUSTOMER_1_PARENTS).length);

      await first.stop();
      // The stopped writer's store retry gives up at its next attempt: none after that.
      const refused = outage.failedInserts;
      await new Promise((resolve) => setTimeout(resolve, 3 * config.pipeline.retryMaxMs));
      expect(outage.failedInserts).toBe(refused);
      outage.down = false;

      second = await startWriter(config, real, real);
      await waitUntil('every row of the cascade to be linked', async () => (await links.linksCausedBy(root!.id)).length >= Object.keys(CUSTOMER_1_PARENTS).length);
      expect(await real.countEntries()).toBe(CASCADE_FILL_ENTRIES + DELETE_ENTRIES);
      expect(customer1Parents(await links.linksCausedBy(root!.id), root!.id)).toEqual(CUSTOMER_1_PARENTS);
    } finally {
      await second?.stop();
      await first.stop();
      await reader.stop();
      await admin.end();
      await db.drop();
    }
  });

  it('an observer that fails after the root chunk is stored: the retried batch comes back as replays, and the correlator still links the whole cascade', async () => {
    const { db, admin, config } = await cascadeSource('kcasc_fail');
    const real = await embeddedStore(uniqueName('kcasc_fail'));
    const links = new ClickHouseCascadeLinks(real);
    const reader = await startKafkaReader(db.url, config);
    // Before the correlator, as a failing alert window store would: once, on the root's batch.
    let failures = 0;
    const failOnce: StoredBatchObserver = (stored) => {
      if (failures === 0 && stored.some(({ event }) => event.table === 'customers' && event.op === 'delete')) {
        failures++;
        throw new Error('alert windows unreachable');
      }
    };
    const writer = await startWriter(config, real, real, { before: [failOnce] });
    try {
      await fillCascadeData(admin);
      await waitUntil('the fill to be stored', async () => (await real.countEntries()) >= CASCADE_FILL_ENTRIES);
      await admin.query('DELETE FROM customers WHERE id = 1');
      await waitUntil('the cascade to be stored', async () => (await real.countEntries()) >= CASCADE_FILL_ENTRIES + DELETE_ENTRIES);
      const [root] = await real.queryLog({ table: 'customers', op: 'delete', limit: 1 });
      await waitUntil('every row of the cascade to be linked', async () => (await links.linksCausedBy(root!.id)).length >= Object.keys(CUSTOMER_1_PARENTS).length);
      expect(failures).toBe(1);
      expect(await real.countEntries()).toBe(CASCADE_FILL_ENTRIES + DELETE_ENTRIES);
      expect(customer1Parents(await links.linksCausedBy(root!.id), root!.id)).toEqual(CUSTOMER_1_PARENTS);
    } finally {
      await writer.stop();
      await reader.stop();
      await admin.end();
      await db.drop();
    }
  });
});

/**
 * The CLI's writer service with its alerter and correlators, as `--services writer` runs it, in
 * this process; `before` and `after` are observers around them.
 */
async function startWriter(
  config: WalauditConfig,
  store: AuditStore,
  observedStore: ClickHouseStore,
  extra: { before?: StoredBatchObserver[]; after?: StoredBatchObserver[] } = {},
): Promise<{ stop(): Promise<void> }> {
  const metrics = createPipelineMetrics();
  const log = createLogger('kcasc', 'error');
  const downstream = await startDistributedObservers(config, clickHouseStoreBundle(observedStore, 'embedded'), metrics.registry, log);
  const state = new ServiceState(config, ['writer'], metrics, '(none: writer only)', 'embedded');
  const writer = createWriterService({ config, store, metrics, kafkaMetrics: createKafkaMetrics(metrics.registry), state, log, observers: [...(extra.before ?? []), ...downstream.observers, ...(extra.after ?? [])] });
  const running = writer.run().catch(() => {});
  await waitUntil('the writer to own the partitions', async () => state.partitions.length > 0);
  let stopped = false;
  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      await writer.stop();
      await running;
      await downstream.close();
    },
  };
}

async function waitUntil(what: string, condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
