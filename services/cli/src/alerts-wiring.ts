import { BulkDeleteWindow, WalauditError, type Alert, type AlertStore, type WalauditConfig, type WindowStore, type Notifier } from '@walaudit/core';
import { connectClient, recordAuditAction, withAuditContext } from '@walaudit/pg';
import { createAlertMetrics, createAlerter, createRedisWindowStore, notifiersFromConfig, type Alerter } from '@walaudit/alerter';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.js';

export interface AlertsWiring {
  config: WalauditConfig;
  /** Where alerts are kept: the store bundle's, beside the audit log. */
  alertStore: AlertStore;
  registry: Registry;
  /** The audited database: acknowledgements are written into its WAL. Unset: acknowledging fails. */
  sourceUrl: string | undefined;
  log: Logger;
  /** Channels beyond the configured ones (distributed mode: the `<prefix>.alerts` topic). */
  extraNotifiers?: readonly Notifier[];
}

/**
 * The alerter as `start` (and the offline `alerts ack`) runs it: windows in memory or in Redis,
 * alerts in the store beside the audit log, the notifiers the configuration turns on.
 */
export function createConfiguredAlerter(wiring: AlertsWiring): Alerter {
  const { config, log } = wiring;
  const metrics = createAlertMetrics(wiring.registry);
  let windows: WindowStore;
  let healthy = () => true;
  if (config.alerts.windowStore === 'redis') {
    const redis = createRedisWindowStore({ url: config.alerts.redisUrl!, metrics, log: log.child('redis') });
    windows = redis;
    healthy = () => redis.healthy;
  } else {
    windows = new BulkDeleteWindow();
    metrics.windowStoreUp.set(1);
  }
  return createAlerter({
    config: config.alerts,
    alertStore: wiring.alertStore,
    windows,
    windowStoreHealthy: healthy,
    notifiers: [...notifiersFromConfig(config.alerts), ...(wiring.extraNotifiers ?? [])],
    metrics,
    log,
    retry: {
      initialMs: config.pipeline.retryInitialMs,
      maxMs: config.pipeline.retryMaxMs,
      onRetry: (attempt, delayMs, error) => log.warn(`storing alerts failed (attempt ${attempt}), retrying in ${delayMs} ms: ${(error as Error).message}`),
    },
    recordAcknowledgement: (alert, role) => recordAcknowledgement(wiring.sourceUrl, alert, role),
  });
}

/**
 * The acknowledgement goes into the audit trail the way every change does: a `walaudit.action`
 * message in the audited database's WAL, under the acknowledger's name, so it is hash-chained.
 */
async function recordAcknowledgement(sourceUrl: string | undefined, alert: Alert, role: string | undefined): Promise<void> {
  if (!sourceUrl) {
    throw new WalauditError('CONFIG_INVALID', 'an acknowledgement is recorded in the audited database: give --source or DATABASE_URL');
  }
  const ack = alert.acknowledgement!;
  const client = await connectClient(sourceUrl, 'walaudit alerts ack');
  try {
    await withAuditContext(client, { user: ack.by, reason: ack.note || `acknowledged alert ${alert.id}` }, (tx) =>
      recordAuditAction(tx, { name: 'alert.acknowledge', alert: alert.id, kind: alert.kind, by: ack.by, ...(role ? { role } : {}), note: ack.note, actor: alert.actor.name, rows: alert.rows }),
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}
