import { createPipelineMetrics, startApiServer } from '@walaudit/api';
import { WalauditError, type WalauditConfig } from '@walaudit/core';
import type { Logger } from '../../logger.js';
import { openStoreWithRetry } from '../open-store.js';
import { runUntilSignal } from '../run-until-signal.js';
import { createKafkaMetrics } from './kafka-metrics.js';
import { createReaderService } from './reader-service.js';
import { ServiceState, sourceLabelOf } from './service-state.js';
import { createWriterService } from './writer-service.js';
import { startDistributedObservers } from './distributed-observers.js';
import { apiBase } from '../../api-wiring.js';
import { readerLiveRules, rulesApi } from '../../rules-wiring.js';

export type DistributedService = 'reader' | 'writer';

const SLOT_CHECK_MS = 5_000;

/**
 * Distributed mode: the reader publishes the slot to Kafka, writers (any number, on any machines,
 * one consumer group) store it; this process runs the services named, in the foreground until
 * SIGINT/SIGTERM.
 */
export async function runDistributed(config: WalauditConfig, services: DistributedService[], log: Logger): Promise<void> {
  const runsReader = services.includes('reader');
  const runsWriter = services.includes('writer');
  if (runsReader && !config.source.url) {
    throw new WalauditError('CONFIG_INVALID', 'the distributed reader needs the audited database: set source.url (DATABASE_URL or --source); the demo database is for standalone mode');
  }
  const stores = runsWriter ? await openStoreWithRetry(config, log) : null;
  const metrics = createPipelineMetrics();
  const kafkaMetrics = createKafkaMetrics(metrics.registry);
  const state = new ServiceState(config, services, metrics, sourceLabelOf(runsReader ? config.source.url : undefined), stores?.label ?? '(none: reader only)');
  // Alerts and cascade links run where the batches are stored: beside each writer.
  const downstream = stores ? await startDistributedObservers(config, stores, metrics.registry, log) : null;
  // The reader applies the rules; it finds run-time changes in the store (this process's, or the
  // writers' ClickHouse server when it has store.url), also when this process's own API made them:
  // one path, whether or not the reader and the writer share a process.
  const readerStores = runsReader && !stores && config.store.url ? await openStoreWithRetry(config, log, 'the reader reads the run-time rule changes from it') : null;
  const ruleStore = (stores ?? readerStores)?.ruleChanges ?? null;
  const rules = runsReader ? await readerLiveRules(config, ruleStore, log.child('rules')) : null;
  if (runsReader && !ruleStore) log.warn('this reader has no store (no store.url): it applies the config rules only, and ignores run-time rule changes');
  const reader = runsReader ? createReaderService({ config, sourceUrl: config.source.url!, metrics, kafkaMetrics, state, log: log.child('reader'), rules: rules ?? undefined }) : null;
  const writer = stores ? createWriterService({ config, store: stores.audit, metrics, kafkaMetrics, state, log: log.child('writer'), observers: downstream?.observers }) : null;
  const alerter = downstream?.alerter ?? undefined;
  const status = async () => ({ ...(await state.status()), ...(alerter ? { alerts: alerter.status() } : {}) });
  const base = apiBase(config, config.source.url, log.child('api'));
  const api = await startApiServer({ ...base, status, store: stores?.audit, queries: stores?.queries, registry: metrics.registry, alerts: alerter, alertFeed: alerter, cascade: downstream?.cascade, tokens: stores?.tokens, rules: stores ? rulesApi(config, stores.ruleChanges) : undefined });
  log.info(`distributed mode (${services.join(' + ')}); HTTP API on ${api.url}/api; a manager token for this host's read commands is in ${base.localToken!.file}`);
  if (config.checkpoints.key || config.checkpoints.keyFile) log.warn('checkpoints: a signing key is configured, but distributed mode does not sign checkpoints yet (standalone start does): nothing is written to checkpoints.file');

  const stopAll = () => Promise.all([reader?.stop(), writer?.stop()]);
  const slotCheck = setInterval(() => void state.checkSlot(), SLOT_CHECK_MS);
  await runUntilSignal({
    log,
    run: async () => {
      // One failing service stops the other: a half-running process would look healthy.
      await Promise.all([reader?.run(), writer?.run()].map((running) => running?.catch(async (error: unknown) => {
        await stopAll();
        throw error;
      })));
      state.stopped();
    },
    stop: stopAll,
    stopping: 'flushing and stopping',
    exitNow: 'the slot and the uncommitted offsets replay what was not yet durable',
    cleanup: [() => clearInterval(slotCheck), () => api.close(), () => downstream?.close(), () => stores?.close(), () => readerStores?.close()],
  });
}
