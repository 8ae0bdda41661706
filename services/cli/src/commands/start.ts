import { createPipelineMetrics, startApiServer } from '@walaudit/api';
import { describeError, type WalauditConfig, retryWhileRetriable } from '@walaudit/core';
import type { Logger } from '../logger.js';
import { openStore } from '../open-store.js';
import { createStandalonePipeline } from '../standalone-pipeline.js';
import { startDemoSource } from '../demo-source.js';
import { createConfiguredAlerter } from '../alerts-wiring.js';
import { startCascadeServices } from '../cascade-services.js';
import { startRestoreServices } from '../restore-services.js';
import { armStopDeadline } from '../stop-deadline.js';

/** `walaudit start`: the standalone pipeline in the foreground until SIGINT/SIGTERM. */
export async function startCommand(config: WalauditConfig, log: Logger): Promise<void> {
  const demo = config.source.url ? null : await startDemoSource(config, log.child('demo'));
  const sourceUrl = config.source.url ?? demo!.url;
  const { store, label } = await retryWhileRetriable(() => openStore(config), {
    initialMs: config.pipeline.retryInitialMs,
    maxMs: config.pipeline.retryMaxMs,
    onRetry: (attempt, delayMs, error) => log.warn(`store not reachable (attempt ${attempt}), retrying in ${delayMs} ms; nothing is read from the slot meanwhile: ${describeError(error)}`),
  });
  const metrics = createPipelineMetrics();
  // Alerts: fed by each stored batch; windows recounted from the store first (see window-rebuild.ts).
  const alerter = config.alerts.enabled ? createConfiguredAlerter({ config, store, registry: metrics.registry, sourceUrl, log: log.child('alerts') }) : null;
  if (alerter) await alerter.rebuild();
  const cascade = startCascadeServices(config, store, sourceUrl, log.child('cascade'));
  const observers = [...(alerter ? [alerter.observe] : []), ...cascade.observers];
  const restores = startRestoreServices(config, store, sourceUrl, log.child('restore'));
  const routes = { ...cascade.routes, ...restores.routes };
  const pipeline = createStandalonePipeline({ config, sourceUrl, store, storeLabel: label, metrics, log: log.child('pipeline'), observers });
  const status = async () => ({ ...(await pipeline.status()), ...(alerter ? { alerts: alerter.status() } : {}) });
  const api = await startApiServer({ host: config.http.host, port: config.http.port, status, store, registry: metrics.registry, alerts: alerter ?? undefined, routes });
  log.info(`HTTP API on http://${config.http.host}:${api.port} (/health, /metrics, /status, /entries, /verify${alerter ? ', /alerts' : ''}, /cascade, /restores)`);

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      log.warn(`${signal} again: exiting now; the slot replays anything not yet confirmed`);
      process.exit(130);
    }
    log.info(`${signal}: flushing and stopping`);
    armStopDeadline(signal, log);
    cascade.stop();
    void pipeline.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await pipeline.run();
    log.info('stopped cleanly');
  } catch (error) {
    log.error(`pipeline stopped: ${describeError(error)}`);
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await api.close();
    await alerter?.close();
    await restores.close();
    await store.close();
    await demo?.stop();
  }
}
