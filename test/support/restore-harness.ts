import pg from 'pg';
import type { AuditEntry, ConflictPolicy, RestoreReport, RestoreRequest } from '@walaudit/core';
import type { ClickHouseCascadeLinks, ClickHouseStore } from '@walaudit/clickhouse';
import { loadForeignKeys, runSetup, withClient } from '@walaudit/pg';
import { createCorrelator } from '@walaudit/correlator';
import { runRestore } from '@walaudit/restorer';
import { embeddedStores, startPipeline, type RunningPipeline } from './pipeline-harness.js';
import { CASCADE_DDL, fillCascadeData } from './cascade-fixture.js';
import { createTestDatabase, uniqueName, type TestDatabase } from './postgres.js';

export interface CascadePipeline {
  store: ClickHouseStore;
  links: ClickHouseCascadeLinks;
  pipeline: RunningPipeline;
  /** Waits until the store holds `count` more entries than `since`. */
  waitFor(since: number, count: number): Promise<void>;
  /** Waits until the deletion of entry `rootId` has at least `count` cascade links stored. */
  waitForLinks(rootId: string, count: number): Promise<void>;
  /** The newest entries matching, newest first. */
  latest(table: string, op: AuditEntry['op'], limit?: number): Promise<AuditEntry[]>;
  restore(request: RestoreRequest, policy?: ConflictPolicy, options?: { dryRun?: boolean; restoreUrl?: string }): Promise<RestoreReport>;
  stop(): Promise<void>;
}

/** setup + the standalone pipeline with the correlator, and restores through the real restorer. */
export async function startCascadePipeline(url: string): Promise<CascadePipeline> {
  const slot = uniqueName('slot');
  const publication = uniqueName('pub');
  await runSetup(url, { slot, publication, tables: [], dryRun: false, log: () => {} });
  // Pages of 4: a test cascade of 11 rows is read in three, each checked while the next is read.
  const { audit: store, cascadeLinks: links } = await embeddedStores(uniqueName('restore'), { cascadePageRows: 4 });
  const correlator = createCorrelator({
    links,
    entries: links,
    loadForeignKeys: () => withClient(url, 'walaudit-test', (client) => loadForeignKeys(client)),
    refreshIntervalMs: 1_000,
  });
  await correlator.start();
  const pipeline = await startPipeline(url, store, { source: { slot, publication } }, { observers: [(stored) => correlator.observe(stored)] });
  return {
    store,
    links,
    pipeline,
    async waitFor(since, count) {
      await pipeline.waitForEntries(since + count);
    },
    async waitForLinks(rootId, count) {
      for (let i = 0; i < 300; i++) {
        if ((await links.linksCausedBy(rootId)).length >= count) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`links of ${rootId} not stored`);
    },
    latest: (table, op, limit = 1) => store.queryLog({ table, op, limit }),
    restore: (request, policy = 'fail', options = {}) =>
      runRestore({ entries: links, links, restoreUrl: options.restoreUrl ?? url, rules: [], batchRows: 2 }, request, { policy, dryRun: options.dryRun ?? false, requestedBy: 'alice@example.com' }),
    async stop() {
      await pipeline.stop();
      await store.close();
    },
  };
}

export interface CascadeDatabase {
  db: TestDatabase;
  /** Connected as the database's owner. */
  admin: pg.Client;
  run: CascadePipeline;
  close(): Promise<void>;
}

/** A new test database with the cascade schema and data, audited by startCascadePipeline. */
export async function openCascadeDatabase(name: string): Promise<CascadeDatabase> {
  const db = await createTestDatabase(name);
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  await admin.query(CASCADE_DDL);
  const run = await startCascadePipeline(db.url);
  await fillCascadeData(admin);
  return {
    db,
    admin,
    run,
    async close() {
      await run.stop();
      await admin.end();
      await db.drop();
    },
  };
}
