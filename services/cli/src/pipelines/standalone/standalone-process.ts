import { createPipelineMetrics, startApiServer } from '@walaudit/api';
import type { SlotLossDetail, WalauditConfig } from '@walaudit/core';
import type { Logger } from '../../logger.js';
import { openStoreWithRetry } from '../open-store.js';
import { runUntilSignal } from '../run-until-signal.js';
import { createStandalonePipeline } from './standalone-pipeline.js';
import { startDemoSource } from '../../demo-source.js';
import { createConfiguredAlerter } from '../../alerts-wiring.js';
import { startCascadeServices } from '../../cascade-services.js';
import { startRestoreServices } from '../../restore-services.js';
import { apiBase } from '../../api-wiring.js';
import { loadLiveRules, rulesApi } from '../../rules-wiring.js';
import { startConfiguredCheckpointer } from '../../evidence/checkpoint-wiring.js';

/** Standalone mode: the whole pipeline in this process, in the foreground until SIGINT/SIGTERM. */
export async function runStandalone(config: WalauditConfig, log: Logger): Promise<void> {
  const demo = config.source.url ? null : await startDemoSource(config, log.child('demo'));
  const sourceUrl = config.source.url ?? demo!.url;
  const stores = await openStoreWithRetry(config, log, 'nothing is read from the slot meanwhile');
  const metrics = createPipelineMetrics();
  // Alerts: fed by each stored batch; windows recounted from the store first (see window-rebuild.ts).
  const alerter = config.alerts.enabled ? createConfiguredAlerter({ config, alertStore: stores.alerts, registry: metrics.registry, sourceUrl, log: log.child('alerts') }) : null;
  if (alerter) await alerter.rebuild();
  // Before anything appends: a store that lost or rewrote checkpointed entries is refused here,
  // with an integrity alert through the alert channels.
  const checkpointer = await startConfiguredCheckpointer({
    config,
    store: stores.audit,
    registry: metrics.registry,
    log: log.child('checkpoints'),
    alerter: alerter ?? undefined,
    onRefused: async () => {
      await alerter?.close();
      await stores.close();
      await demo?.stop();
    },
  });
  const cascade = startCascadeServices(config, stores.cascadeLinks, sourceUrl, log.child('cascade'));
  const observers = [...(alerter ? [alerter.observe] : []), ...cascade.observers];
  const restores = startRestoreServices(config, stores.cascadeLinks, sourceUrl, log.child('restore'));
  const onSlotLost = alerter
    ? async (detail: SlotLossDetail) => {
        await alerter.slotLost(detail);
        await alerter.idle();
      }
    : undefined;
  // The config rules with the run-time changes of earlier runs; the API changes them without a restart.
  const rules = await loadLiveRules(config, stores.ruleChanges);
  if (rules.current.size > 0) log.info(`audit rules: ${rules.current.size} table(s) changed at run time ahead of the config rules (GET /api/rules, walaudit rules list)`);
  const pipeline = createStandalonePipeline({ config, sourceUrl, store: stores.audit, storeLabel: stores.label, metrics, log: log.child('pipeline'), observers, onSlotLost, rules, onChained: checkpointer?.chained });
  const status = async () => ({ ...(await pipeline.status()), ...(alerter ? { alerts: alerter.status() } : {}) });
  const base = apiBase(config, sourceUrl, log.child('api'));
  // The demo opens the API docs to anyone (they describe the API and hold no data); the console at
  // `/` signs in with the manager token printed below.
  if (demo) base.http = { ...base.http, docsPublic: true };
  const api = await startApiServer({ ...base, status, store: stores.audit, queries: stores.queries, registry: metrics.registry, alerts: alerter ?? undefined, alertFeed: alerter ?? undefined, cascade: cascade.api, restores: restores.api, tokens: stores.tokens, rules: rulesApi(config, stores.ruleChanges, rules) });
  log.info(`HTTP API on ${api.url}/api (docs: ${api.url}/api/docs); a manager token for this host's read commands is in ${base.localToken!.file}`);
  if (demo) log.info(`demo console: ${api.url}/ (sign in with the manager token ${base.localToken!.token}); API docs at ${api.url}/api/docs`);

  await runUntilSignal({
    log,
    run: () => pipeline.run(),
    stop: () => {
      // The first foreign-key read may be retrying against a Postgres that is down.
      cascade.stop();
      return pipeline.stop();
    },
    stopping: 'flushing and stopping',
    exitNow: 'the slot replays anything not yet confirmed',
    // The shutdown checkpoint covers every entry stored, before the store closes.
    cleanup: [() => checkpointer?.close(), () => api.close(), () => alerter?.close(), () => restores.close(), () => stores.close(), () => demo?.stop()],
  });
}
