import { actorTagOptions, describeError, formatLsn, isWalauditError, type SlotLossDetail, type AuditStore, type PipelineStatus, type RuleContext, type WalauditConfig, type StoredBatchObserver } from '@walaudit/core';
import { PgReplicationSource, SlotMonitor, connectionLabel, identifySource } from '@walaudit/pg';
import { createAuditWriter, type AuditWriterDeps } from '@walaudit/audit-writer';
import { createWalReader, type WalReader } from '@walaudit/wal-reader';
import type { PipelineMetrics } from '@walaudit/api';
import type { Logger } from '../../logger.js';
import { formatBytes } from '../../format-bytes.js';
import { PipelineState, type SlotState } from '../pipeline-state.js';
import { slotSessions } from '../slot-sessions.js';

export interface StandalonePipelineDeps {
  config: WalauditConfig;
  sourceUrl: string;
  store: AuditStore;
  storeLabel: string;
  metrics: PipelineMetrics;
  log: Logger;
  /** Services fed by the stored batches (see AuditWriterDeps.observers). */
  observers?: readonly StoredBatchObserver[];
  /** The rules, when they change at run time (LiveRules); default: the config's. */
  rules?: RuleContext;
  /** Told the chain hashes of each durable batch (the signed checkpoints' trees). */
  onChained?: AuditWriterDeps['onChained'];
  /** Told once when Postgres invalidated the slot (the alerter raises slot-lost), before run() fails. */
  onSlotLost?: (detail: SlotLossDetail) => Promise<void>;
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
  const monitor = new SlotMonitor(deps.sourceUrl, config.source.slot);
  let lastLagWarning = 0;
  let lossReport: Promise<void> | null = null;
  const reportLoss = (slot: SlotState) => {
    if (!slot.lost || lossReport || !deps.onSlotLost) return;
    const detail = { slot: config.source.slot, source: connectionLabel(deps.sourceUrl), ...slot.lost, confirmedLsn: slot.confirmedLsn === null ? null : formatLsn(slot.confirmedLsn) };
    lossReport = deps.onSlotLost(detail).catch((error: unknown) => log.warn(`the slot-lost alert could not be raised: ${describeError(error)}`));
  };
  const state = new PipelineState(metrics, { source: connectionLabel(deps.sourceUrl), store: deps.storeLabel, slot: config.source.slot }, (slot) => {
    reportLoss(slot);
    if (slot.confirmedLsn !== null) metrics.confirmedLsn.set(Number(slot.confirmedLsn));
    const limit = config.pipeline.lagWarnBytes;
    if (limit > 0 && slot.retainedBytes > limit && Date.now() - lastLagWarning > LAG_WARN_EVERY_MS) {
      lastLagWarning = Date.now();
      log.warn(`slot ${config.source.slot} holds ${formatBytes(slot.retainedBytes)} of WAL on the server (warning above ${formatBytes(limit)})`);
    }
  });
  state.monitor = monitor;
  state.publication = config.source.publication;
  state.warn = (line) => log.warn(line);
  let reader: WalReader | null = null;
  let stopping = false;
  let stopped!: () => void;
  const stopRequested = new Promise<void>((resolve) => (stopped = resolve));

  const writer = createAuditWriter({
    store: deps.store,
    storeLabel: deps.storeLabel,
    rules: deps.rules ?? { rules: config.rules, defaultRetentionDays: config.retention.defaultDays, hashKey: config.masking.hashKey },
    retry: {
      initialMs: config.pipeline.retryInitialMs,
      maxMs: config.pipeline.retryMaxMs,
      cancelled: () => stopping,
      // A store outage's backoff wait (up to retryMaxMs) ends at the stop, not at its term.
      interrupted: stopRequested,
      onRetry: (attempt, delayMs, error) => {
        state.recordError(error);
        metrics.storeRetries.inc();
        state.retrying();
        log.warn(`store write failed (attempt ${attempt}), retrying in ${delayMs} ms; the slot does not move meanwhile: ${describeError(error)}`);
      },
    },
    observers: deps.observers,
    onChained: deps.onChained,
    onStored: (stored, skipped) => {
      state.stored(stored);
      metrics.entriesStored.inc(stored);
      metrics.eventsSkipped.inc(skipped);
      state.resumed();
    },
  });

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
      tagOptions: actorTagOptions(config.actor),
      onNotice: (notice) => log.warn(notice.message),
      onTransaction: () => metrics.transactions.inc(),
      // Counted per written batch, not per commit: a million-row DELETE shows progress as it streams.
      onWritten: (events) => state.decoded(events),
      onConfirmed: (lsn) => metrics.confirmedLsn.set(Number(lsn)),
    });
    // Advisory, before the first change: a slot about to be lost, partitions added after setup.
    await state.checkSlot(true);
    state.running();
    log.info(`streaming slot ${config.source.slot} (publication ${config.source.publication}) from ${connectionLabel(deps.sourceUrl)} into ${deps.storeLabel}`);
    await reader.run();
  };

  const sessions = slotSessions({ config, monitor, state, log, session: runOnce, cancelled: () => stopping });

  return {
    async run() {
      const lagCheck = setInterval(() => void state.checkSlot(), LAG_CHECK_MS);
      try {
        await sessions.run().catch(async (error: unknown) => {
          if (isWalauditError(error) && error.code === 'PG_SLOT_LOST') {
            // The slot's state names the loss for /status, /metrics and the alert, before the process ends.
            await state.checkSlot();
            await lossReport;
          }
          throw error;
        });
        state.stopped();
      } finally {
        clearInterval(lagCheck);
        metrics.up.set(0);
        await monitor.close();
      }
    },
    async stop() {
      stopping = true;
      stopped();
      sessions.wake();
      await reader?.stop();
    },
    status: () => state.status(),
  };
}
