import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The alerter's Prometheus metrics, on the pipeline's registry (one /metrics). */
export function createAlertMetrics(registry: Registry) {
  const registers = [registry];
  return {
    raised: new Counter({ name: 'walaudit_alerts_raised_total', help: 'Alerts raised, by kind', labelNames: ['kind'] as const, registers }),
    updated: new Counter({ name: 'walaudit_alert_updates_total', help: 'Updates of open alerts (more rows counted), by kind', labelNames: ['kind'] as const, registers }),
    acknowledged: new Counter({ name: 'walaudit_alerts_acknowledged_total', help: 'Alerts acknowledged', registers }),
    attempts: new Counter({ name: 'walaudit_alert_delivery_attempts_total', help: 'Delivery attempts, by channel and result of the attempt (ok, error)', labelNames: ['channel', 'result'] as const, registers }),
    deliveries: new Counter({
      name: 'walaudit_alert_deliveries_total',
      help: 'Deliveries by channel and final outcome: delivered, failed (attempts exhausted or rejected), suppressed (quiet hours), dropped (queue full)',
      labelNames: ['channel', 'outcome'] as const,
      registers,
    }),
    deliverySeconds: new Histogram({ name: 'walaudit_alert_delivery_seconds', help: 'Time from queueing to delivery, by channel', labelNames: ['channel'] as const, buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300], registers }),
    queued: new Gauge({ name: 'walaudit_alert_delivery_queue', help: 'Notifications waiting, by channel', labelNames: ['channel'] as const, registers }),
    windowStoreUp: new Gauge({ name: 'walaudit_alert_window_store_up', help: '1 while the configured window store answers; 0 while the alerter counts in a local window (Redis down)', registers }),
    openWindows: new Gauge({ name: 'walaudit_alert_rebuilt_windows', help: 'Deletions replayed from the store into the windows at start (crash recovery)', registers }),
  };
}

export type AlertMetrics = ReturnType<typeof createAlertMetrics>;
