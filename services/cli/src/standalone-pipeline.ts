import {
  describeError,
  formatLsn,
  isWalauditError,
  type AuditStore,
  type PipelineStatus,
  type WalauditConfig, createReconnectLoop, type StoredBatchObserver } from '@walaudit/core';
import { PgReplicationSource, SlotMonitor, connectionLabel, identifySource } from '@walaudit/pg';
import { createAuditWriter } from '@walaudit/audit-writer';
import { createWalReader, type WalReader } from '@walaudit/wal-reader';
import type { PipelineMetrics } from '@walaudit/api';
import type { Logger } from './logger.js';
import { EventRate } from './event-rate.js';

export interface StandalonePipelineDeps {
  config: WalauditConfig;
  sourceUrl: string;
  store: AuditStore;
  storeLabel: string;
  metrics: PipelineMetrics;
  log: Logger;
  /** Services fed by the stored batches (see AuditWriterDeps.observers). */
  observers?: readonly StoredBatchObserver[];
}

export interface StandalonePipeline {
  /** Runs until stop(); retries what can be retried; rejects on a permanent error. */
  run(): Promise<void>;
  stop(): Promise<void>;
  status(): Promise<PipelineStatus>;
}

const LAG_CHECK_MS = 5_000;
const LAG_WARN_EVERY_MS = 60_000;

/**
 * One process: Postgres slot -> reader -> audit writer -> store. The slot's confirmed position is
 * the only cursor; the writer's chain head makes a replay harmless.
 */
export function createStandalonePipeline(deps: StandalonePipelineDeps): StandalonePipeline {
  const { config, metrics, log } = deps;
  const startedAt = new Date().toISOString();
  const rate = new EventRate();
  const monitor = new SlotMonitor(deps.sourceUrl, config.source.slot);
  let state: PipelineStatus['state'] = 'starting';
  let lastError: PipelineStatus['lastError'] = null;
  let reader: WalReader | null = null;
  let stopping = false;
  let entriesStored = 0;
  let eventsTotal = 0;
  let lastSlot: Awaited<ReturnType<SlotMonitor['state']>> | null = null;
  let lastLagWarning = 0;
  let wake: () => void = () => {};
  let stopped!: () => void;
  const stopRequested = new Promise<void>((resolve) => (stopped = resolve));

  const recordError = (error: unknown) => {
    const code = isWalauditError(error) ? error.code : 'INTERNAL';
    lastError = { code, message: describeError(error), at: new Date().toISOString() };
    metrics.errors.inc({ code });
  };

  const writer = createAuditWriter({
    store: deps.store,
    storeLabel: deps.storeLabel,
    rules: { rules: config.rules, defaultRetentionDays: config.retention.defaultDays, hashKey: config.masking.hashKey },
    retry: {
      initialMs: config.pipeline.retryInitialMs,
      maxMs: config.pipeline.retryMaxMs,
      cancelled: () => stopping,
      // A store outage's backoff wait (up to retryMaxMs) ends at the stop, not at its term.
      interrupted: stopRequested,
      onRetry: (attempt, delayMs, error) => {
        recordError(error);
        metrics.storeRetries.inc();
        state = 'retrying';
        metrics.up.set(0);
        log.warn(`store write failed (attempt ${attempt}), retrying in ${delayMs} ms; the slot does not move meanwhile: ${describeError(error)}`);
      },
    },
    observers: deps.observers,
    onStored: (stored, skipped) => {
      entriesStored += stored;
      metrics.entriesStored.inc(stored);
      metrics.eventsSkipped.inc(skipped);
      if (state === 'retrying') state = 'running';
      metrics.up.set(1);
    },
  });

  const checkSlot = async () => {
    try {
      lastSlot = await monitor.state();
      metrics.lagBytes.set(lastSlot.lagBytes);
      metrics.retainedBytes.set(lastSlot.retainedBytes);
      if (lastSlot.confirmedLsn !== null) metrics.confirmedLsn.set(Number(lastSlot.confirmedLsn));
      const limit = config.pipeline.lagWarnBytes;
      if (limit > 0 && lastSlot.retainedBytes > limit && Date.now() - lastLagWarning > LAG_WARN_EVERY_MS) {
        lastLagWarning = Date.now();
        log.warn(`slot ${config.source.slot} holds ${formatBytes(lastSlot.retainedBytes)} of WAL on the server (warning above ${formatBytes(limit)})`);
      }
    } catch (error) {
      recordError(error);
    }
  };

  const runOnce = async () => {
    const { knownShapes } = await writer.init(await identifySource(deps.sourceUrl));
    // stop() during the lookups above found no reader to stop (or the last session's): start none.
    if (stopping) return;
    const source = new PgReplicationSource({ url: deps.sourceUrl, slot: config.source.slot, publication: config.source.publication });
    reader = createWalReader({
      source,
      sink: writer,
      options: { batchSize: config.pipeline.batchSize, flushIntervalMs: config.pipeline.flushIntervalMs },
      knownShapes,
      onNotice: (notice) => log.warn(notice.message),
      onTransaction: () => metrics.transactions.inc(),
      // Counted per written batch, not per commit: a million-row DELETE shows progress as it streams.
      onWritten: (events) => {
        metrics.eventsDecoded.inc(events);
        eventsTotal += events;
        rate.add(events);
      },
      onConfirmed: (lsn) => metrics.confirmedLsn.set(Number(lsn)),
    });
    state = 'running';
    metrics.up.set(1);
    log.info(`streaming slot ${config.source.slot} (publication ${config.source.publication}) from ${connectionLabel(deps.sourceUrl)} into ${deps.storeLabel}`);
    await reader.run();
  };

  return {
    async run() {
      const heartbeat = setInterval(() => void monitor.heartbeat().catch(recordError), config.pipeline.heartbeatIntervalMs);
      const lagCheck = setInterval(() => void checkSlot(), LAG_CHECK_MS);
      const loop = createReconnectLoop(runOnce, {
        initialMs: config.pipeline.retryInitialMs,
        maxMs: config.pipeline.retryMaxMs,
        cancelled: () => stopping,
        onError: recordError,
        onRetry: (_attempt, delayMs, error) => {
          state = 'retrying';
          metrics.up.set(0);
          log.warn(`${describeError(error)}; reconnecting in ${delayMs} ms`);
        },
      });
      wake = loop.wake;
      try {
        await loop.run().catch((error: unknown) => {
          state = 'failed';
          throw error;
        });
        state = 'stopped';
      } finally {
        clearInterval(heartbeat);
        clearInterval(lagCheck);
        metrics.up.set(0);
        await monitor.close();
      }
    },
    async stop() {
      stopping = true;
      stopped();
      wake();
      await reader?.stop();
    },
    async status() {
      if (!lastSlot) await checkSlot();
      return {
        state,
        source: connectionLabel(deps.sourceUrl),
        store: deps.storeLabel,
        slot: config.source.slot,
        slotExists: lastSlot?.exists ?? false,
        slotActive: lastSlot?.active ?? false,
        confirmedLsn: lastSlot?.confirmedLsn != null ? formatLsn(lastSlot.confirmedLsn) : null,
        serverLsn: lastSlot ? formatLsn(lastSlot.serverLsn) : null,
        lagBytes: lastSlot?.lagBytes ?? null,
        retainedBytes: lastSlot?.retainedBytes ?? null,
        eventsTotal,
        entriesStored,
        eventsPerSecond: rate.perSecond(),
        startedAt,
        lastError,
      };
    },
  };
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
