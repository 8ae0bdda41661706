import type { AuditEntry, AuditStore, ConflictPolicy, RestoreReport, RestoreRequest } from '@walaudit/core';
import { ClickHouseCascadeLinks, type ClickHouseStore } from '@walaudit/clickhouse';
import { loadForeignKeys, runSetup, withClient } from '@walaudit/pg';
import { createCorrelator } from '@walaudit/correlator';
import { runRestore } from '@walaudit/restorer';
import { embeddedStore, startPipeline, type RunningPipeline } from './pipeline-harness.js';
import { uniqueName } from './postgres.js';

export interface CascadePipeline {
  store: ClickHouseStore;
  links: ClickHouseCascadeLinks;
  pipeline: RunningPipeline;
  /** Waits until the store holds `count` more entries than `since`. */
  waitFor(since: number, count: number): Promise<void>;
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
  const store = (await embeddedStore(uniqueName('restore'))) as AuditStore as ClickHouseStore;
  const links = new ClickHouseCascadeLinks(store);
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
    latest: (table, op, limit = 1) => store.queryLog({ table, op, limit }),
    restore: (request, policy = 'fail', options = {}) =>
      runRestore({ entries: links, links, restoreUrl: options.restoreUrl ?? url, rules: [], batchRows: 2 }, request, { policy, dryRun: options.dryRun ?? false, requestedBy: 'alice@example.com' }),
    async stop() {
      await pipeline.stop();
      await store.close();
    },
  };
}
