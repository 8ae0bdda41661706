import { WalauditError, actorTagOptions, parseConfig, type AuditStore, type PreparedEntries, type WalauditConfigInput, type StoredBatchObserver } from '@walaudit/core';
import { openClickHouseStores, type ClickHouseBundleOptions, type ClickHouseStore, type ClickHouseStores } from '@walaudit/clickhouse';
import { PgReplicationSource, identifySource } from '@walaudit/pg';
import { createAuditWriter } from '@walaudit/audit-writer';
import { createWalReader } from '@walaudit/wal-reader';
import { tempDir } from './temp-dir.js';

/** chDB allows a single data directory per process: tests of a file share it, one database each. */
let dataDir: string | null = null;

/** A migrated database of the file's embedded store, with the alerts and cascade links beside it. */
export async function embeddedStores(database: string, options: ClickHouseBundleOptions = {}): Promise<ClickHouseStores> {
  dataDir ??= tempDir('store');
  return openClickHouseStores({ dataDir, database, ...options });
}

export async function embeddedStore(database: string): Promise<ClickHouseStore> {
  return (await embeddedStores(database)).audit;
}

/** Waits until the store holds at least `count` entries; returns how many it holds. */
export async function waitForCount(store: AuditStore, count: number, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stored = await store.countEntries();
    if (stored >= count) return stored;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} entries; ${stored} stored`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface RunningPipeline {
  store: AuditStore;
  notices: string[];
  /** Resolves once the store holds at least `count` entries (polls). */
  waitForEntries(count: number, timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
  /** Settles when the reader ends; rejects with its error. */
  done: Promise<void>;
}

/** The standalone pipeline, in-process, against a real Postgres slot and the given store. */
export interface PipelineExtras {
  /** Downstream services fed by each stored batch (alerts, cascade links). */
  observers?: readonly StoredBatchObserver[];
}

export async function startPipeline(
  sourceUrl: string,
  store: AuditStore,
  configInput: WalauditConfigInput = {},
  extras: PipelineExtras = {},
): Promise<RunningPipeline> {
  const config = parseConfig({ pipeline: { flushIntervalMs: 50, retryInitialMs: 50, retryMaxMs: 500 }, ...configInput, source: { url: sourceUrl, ...configInput.source } });
  const notices: string[] = [];
  let stopping = false;
  const writer = createAuditWriter({
    store,
    rules: { rules: config.rules, defaultRetentionDays: config.retention.defaultDays, hashKey: config.masking.hashKey },
    retry: { initialMs: config.pipeline.retryInitialMs, maxMs: config.pipeline.retryMaxMs, cancelled: () => stopping },
    observers: extras.observers,
  });
  const { knownShapes } = await writer.init(await identifySource(sourceUrl));
  const source = new PgReplicationSource({ url: sourceUrl, slot: config.source.slot, publication: config.source.publication });
  const reader = createWalReader({
    source,
    sink: writer,
    knownShapes,
    tagOptions: actorTagOptions(config.actor),
    options: { batchSize: config.pipeline.batchSize, flushIntervalMs: config.pipeline.flushIntervalMs },
    onNotice: (notice) => notices.push(`${notice.code}: ${notice.message}`),
  });
  const done = reader.run();
  done.catch(() => {});
  return {
    store,
    notices,
    done,
    waitForEntries: (count, timeoutMs) => waitForCount(store, count, timeoutMs),
    async stop() {
      stopping = true;
      await reader.stop();
      await done.catch(() => {});
    },
  };
}

export interface StoreOutage {
  /** The real store, except that inserts fail while `down` as an unreachable server's do. */
  store: AuditStore;
  down: boolean;
  /** Inserts refused while down. */
  failedInserts: number;
}

/**
 * The real store behind a switch: there is no ClickHouse server on this machine to take down
 * mid-stream, so an outage is a retriable STORE_UNREACHABLE from insertEntries, as the server
 * path reports one. Everything else reaches the real store.
 */
export function storeWithOutage(real: AuditStore): StoreOutage {
  const outage: StoreOutage = {
    down: true,
    failedInserts: 0,
    store: Object.assign(Object.create(real) as AuditStore, {
      // insertEntries is prepareEntries + insertPrepared: it comes here through the prototype.
      insertPrepared: async (prepared: PreparedEntries) => {
        if (outage.down) {
          outage.failedInserts++;
          throw new WalauditError('STORE_UNREACHABLE', 'ClickHouse at 127.0.0.1:8123 is unreachable', { retriable: true });
        }
        return real.insertPrepared(prepared);
      },
    }),
  };
  return outage;
}
