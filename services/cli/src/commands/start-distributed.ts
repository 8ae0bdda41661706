import { createPipelineMetrics, startApiServer } from '@walaudit/api';
import { describeError, WalauditError, type AuditStore, type WalauditConfig, retryWhileRetriable } from '@walaudit/core';
import type { Logger } from '../logger.js';
import { openStore } from '../open-store.js';
import { createKafkaMetrics } from '../distributed/kafka-metrics.js';
import { createReaderService } from '../distributed/reader-service.js';
import { ServiceState, sourceLabelOf } from '../distributed/service-state.js';
import { createWriterService } from '../distributed/writer-service.js';
import { startDistributedObservers, type DistributedObservers } from '../distributed/distributed-observers.js';
import { armStopDeadline } from '../stop-deadline.js';

export type DistributedServices = 'reader' | 'writer' | 'all';

const SLOT_CHECK_MS = 5_000;

/**
 * `walaudit start --mode distributed --services reader|writer|all`: the reader publishes the slot
 * to Kafka, writers (any number, on any machines, one consumer group) store it; `all` runs both in
 * this process. Runs in the foreground until SIGINT/SIGTERM.
 */
export async function startDistributedCommand(config: WalauditConfig, which: DistributedServices, log: Logger): Promise<void> {
  const services: ('reader' | 'writer')[] = which === 'all' ? ['reader', 'writer'] : [which];
  const runsReader = services.includes('reader');
  const runsWriter = services.includes('writer');
  if (runsReader && !config.source.url) {
    throw new WalauditError('CONFIG_INVALID', 'the distributed reader needs the audited database: set source.url (DATABASE_URL or --source); the demo database is for standalone mode');
  }
  let store: AuditStore | undefined;
  let storeLabel = '(none: reader only)';
  if (runsWriter) {
    ({ store, label: storeLabel } = await retryWhileRetriable(() => openStore(config), {
      initialMs: config.pipeline.retryInitialMs,
      maxMs: config.pipeline.retryMaxMs,
      onRetry: (attempt, delayMs, error) => log.warn(`store not reachable (attempt ${attempt}), retrying in ${delayMs} ms: ${describeError(error)}`),
    }));
  }
  const metrics = createPipelineMetrics();
  const kafkaMetrics = createKafkaMetrics(metrics.registry);
  const state = new ServiceState(config, services, metrics, sourceLabelOf(runsReader ? config.source.url : undefined), storeLabel);
  // Alerts and cascade links run where the batches are stored: beside each writer.
  const downstream: DistributedObservers | null = runsWriter ? await startDistributedObservers(config, store!, metrics.registry, log) : null;
  const reader = runsReader ? createReaderService({ config, sourceUrl: config.source.url!, metrics, kafkaMetrics, state, log: log.child('reader') }) : null;
  const writer = runsWriter ? createWriterService({ config, store: store!, metrics, kafkaMetrics, state, log: log.child('writer'), observers: downstream?.observers }) : null;
  const alerter = downstream?.alerter ?? undefined;
  const status = async () => ({ ...(await state.status()), ...(alerter ? { alerts: alerter.status() } : {}) });
  const api = await startApiServer({ host: config.http.host, port: config.http.port, status, store, registry: metrics.registry, alerts: alerter, routes: downstream?.routes });
  log.info(`distributed mode (${services.join(' + ')}); HTTP API on http://${config.http.host}:${api.port}`);

  const stopAll = () => Promise.all([reader?.stop(), writer?.stop()]);
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      log.warn(`${signal} again: exiting now; the slot and the uncommitted offsets replay what was not yet durable`);
      process.exit(130);
    }
    log.info(`${signal}: flushing and stopping`);
    armStopDeadline(signal, log);
    void stopAll();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const slotCheck = setInterval(() => void state.checkSlot(), SLOT_CHECK_MS);
  try {
    // One failing service stops the other: a half-running process would look healthy.
    await Promise.all([reader?.run(), writer?.run()].map((running) => running?.catch(async (error: unknown) => {
      await stopAll();
      throw error;
    })));
    state.stopped();
    log.info('stopped cleanly');
  } catch (error) {
    log.error(`stopped: ${describeError(error)}`);
    throw error;
  } finally {
    clearInterval(slotCheck);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await api.close();
    await downstream?.close();
    await store?.close();
  }
}
