import {
  alertDescription,
  alertWindowKey,
  bulkDeleteAlert,
  createAlertPolicy,
  criticalTableAlert,
  slotLostAlert,
  integrityAlert,
  type IntegrityDetail,
  type SlotLossDetail,
  CriticalDeletions,
  inQuietHours,
  tallyDeletions,
  WalauditError,
  type Alert,
  type AlertKind,
  type AlertQuery,
  type AlertsConfig,
  type AlertsStatus,
  type AlertStore,
  type DeletionTally,
  type WindowOutcome,
  type WindowStore,
  retryWhileRetriable,
  type RetryPolicy,
  type StoredBatchObserver,
  type AlertEvent,
  type Notifier,
} from '@walaudit/core';
import type { AlertMetrics } from './alert-metrics.js';
import { DeliveryQueue } from './delivery-queue.js';
import { rebuildWindows, type RebuildReport } from './window-rebuild.js';

export interface AlerterLog {
  info(line: string): void;
  warn(line: string): void;
}

export interface AcknowledgementRequest {
  ids: readonly string[];
  by: string;
  note?: string;
  /** The API role of who acknowledges (viewer, manager), recorded with the acknowledgement; unset offline. */
  role?: string;
}

export interface AcknowledgementResult {
  acknowledged: Alert[];
  /** Ids that were acknowledged before; left as they were. */
  alreadyAcknowledged: string[];
}

export interface AlerterDeps {
  config: AlertsConfig;
  alertStore: AlertStore;
  windows: WindowStore;
  notifiers: readonly Notifier[];
  metrics: AlertMetrics;
  log: AlerterLog;
  /** Retries of alert writes (the audit store's policy: an outage holds the pipeline, nothing is dropped). */
  retry: RetryPolicy;
  /** Writes the acknowledgement into the audit trail (a `walaudit.action` message in the source database). */
  recordAcknowledgement?: (alert: Alert, role?: string) => Promise<void>;
  /** Health of the window store, for status (Redis: false while counting locally). */
  windowStoreHealthy?: () => boolean;
  now?: () => number;
}

export type AlertListener = (alert: Alert, event: AlertEvent) => void;

export interface Alerter {
  /** Feed of the audit writer: each stored batch, before the slot may confirm it. */
  observe: StoredBatchObserver;
  /** Recounts the windows from the deletions stored in the last window (after a restart). */
  rebuild(): Promise<RebuildReport>;
  acknowledge(request: AcknowledgementRequest): Promise<AcknowledgementResult>;
  list(query: AlertQuery): Promise<Alert[]>;
  /** Alerts not acknowledged, by kind (a kind with none is absent): one aggregate in the store. */
  openCounts(): Promise<Partial<Record<AlertKind, number>>>;
  /**
   * Calls `listener` with each alert raised, updated or acknowledged here, once it is stored (so a
   * count read after it includes it). For live views (the API's event stream); a listener that
   * throws is ignored. Returns the unsubscribe.
   */
  watch(listener: AlertListener): () => void;
  status(): AlertsStatus;
  /**
   * Raises the alert of a lost slot (once per loss: an open alert of it already stored is not sent
   * again), through the channels and into the store. Resolves once it is stored; `idle()` waits for
   * the deliveries.
   */
  slotLost(detail: SlotLossDetail): Promise<Alert>;
  /** Raises the alert of a store that contradicts its signed checkpoints (once per finding), as slotLost. */
  integrity(detail: IntegrityDetail): Promise<Alert>;
  /** Resolves when every queued notification is delivered or given up. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Updates of an open alert reach the channels at most once a minute (the store gets every one);
 * the first update comes sooner, so the full count of a big DELETE (raised at its first batch)
 * follows within seconds.
 */
const UPDATE_NOTIFY_MS = 60_000;
const FIRST_UPDATE_NOTIFY_MS = 5_000;
const UPDATE_SWEEP_MS = 2_500;

export function createAlerter(deps: AlerterDeps): Alerter {
  const { config, metrics, log } = deps;
  const now = deps.now ?? Date.now;
  const policy = createAlertPolicy(config);
  const critical = new CriticalDeletions();
  const queues = deps.notifiers.map((notifier) => new DeliveryQueue(notifier, {
    attempts: config.notifyAttempts,
    timeoutMs: config.notifyTimeoutMs,
    initialMs: config.notifyRetryInitialMs,
    maxMs: config.notifyRetryMaxMs,
  }, metrics, (line) => log.warn(line)));
  const lastNotified = new Map<string, { at: number; updates: number }>();
  const pendingUpdates = new Map<string, Alert>();
  let raised = 0;
  let rebuilt: RebuildReport | null = null;
  const listeners = new Set<AlertListener>();
  const tell = (alert: Alert, event: AlertEvent) => {
    for (const listener of listeners) {
      try {
        listener(alert, event);
      } catch (error) {
        log.warn(`an alert listener failed: ${(error as Error).message}`);
      }
    }
  };

  const notify = (alert: Alert, event: AlertEvent) => {
    const last = lastNotified.get(alert.id);
    if (event === 'updated' && last && now() - last.at < (last.updates === 0 ? FIRST_UPDATE_NOTIFY_MS : UPDATE_NOTIFY_MS)) {
      pendingUpdates.set(alert.id, alert);
      return;
    }
    pendingUpdates.delete(alert.id);
    lastNotified.set(alert.id, { at: now(), updates: event === 'updated' ? (last?.updates ?? 0) + 1 : 0 });
    const quiet = event !== 'acknowledged' && inQuietHours(config.quietHours, new Date(now()));
    // In the process's own log too: whoever watches it sees the alert without a channel set up.
    if (event === 'raised') log.warn(`alert raised: ${alertDescription(alert)}${quiet ? ' (quiet hours: stored, not sent)' : ''}`);
    if (quiet) {
      for (const queue of queues) metrics.deliveries.inc({ channel: queue.channel, outcome: 'suppressed' });
      return;
    }
    for (const queue of queues) queue.enqueue(alert, event);
  };

  const sweep = setInterval(() => {
    for (const alert of [...pendingUpdates.values()]) notify(alert, 'updated');
    // Forget alerts quiet for an hour: their windows have closed.
    for (const [id, last] of lastNotified) if (now() - last.at > 3_600_000 && !pendingUpdates.has(id)) lastNotified.delete(id);
  }, UPDATE_SWEEP_MS);
  sweep.unref();

  /** Turns one tally into alert changes; `changed` keeps the newest state of each alert of the batch. */
  const countTally = async (tally: DeletionTally, changed: Map<string, { alert: Alert; event: AlertEvent }>, outcomeOf?: (tally: DeletionTally) => Promise<WindowOutcome>) => {
    const record = (alert: Alert, opened: boolean) => {
      const previous = changed.get(alert.id);
      changed.set(alert.id, { alert, event: opened || previous?.event === 'raised' ? 'raised' : 'updated' });
      (opened ? metrics.raised : metrics.updated).inc({ kind: alert.kind });
      if (opened) raised++;
    };
    if (tally.policy.critical) {
      const outcome = critical.add(tally, now());
      record(criticalTableAlert(outcome.alert, tally.actor, now()), outcome.kind === 'opened');
    }
    const outcome = outcomeOf ? await outcomeOf(tally) : await deps.windows.add(tally.windowKey, tally.deletion, tally.policy.rule, now());
    if (outcome.kind === 'below') return;
    record(bulkDeleteAlert(outcome.alert, tally.actor, tally.policy.rule, now()), outcome.kind === 'opened');
  };

  const publish = async (changed: Map<string, { alert: Alert; event: AlertEvent }>) => {
    if (changed.size === 0) return;
    // Channels first: the on-call engineer should not wait for the store's fsync.
    for (const { alert, event } of changed.values()) notify(alert, event);
    const alerts = [...changed.values()].map((entry) => entry.alert);
    await retryWhileRetriable(() => deps.alertStore.saveAlerts(alerts), deps.retry);
    for (const { alert, event } of changed.values()) tell(alert, event);
  };

  /** An alert raised by one event (a lost slot, a contradicted checkpoint): an open one already stored is not sent again. */
  const raiseOnce = async (alert: Alert): Promise<Alert> => {
    const [known] = await deps.alertStore.listAlerts({ ids: [alert.id], limit: 1 });
    if (known) return known;
    metrics.raised.inc({ kind: alert.kind });
    raised++;
    await publish(new Map([[alert.id, { alert, event: 'raised' as const }]]));
    return alert;
  };

  const alerter: Alerter = {
    async observe(stored) {
      const tallies = tallyDeletions(stored, policy);
      if (tallies.length === 0) return;
      const changed = new Map<string, { alert: Alert; event: AlertEvent }>();
      for (const tally of tallies) await countTally(tally, changed);
      await publish(changed);
    },

    async rebuild() {
      rebuilt = await rebuildWindows({ config, policy, alertStore: deps.alertStore, windows: deps.windows, countTally, publish, log });
      metrics.openWindows.set(rebuilt.deletionsReplayed);
      return rebuilt;
    },

    async acknowledge(request) {
      const ids = [...new Set(request.ids)];
      if (ids.length === 0) throw new WalauditError('CONFIG_INVALID', 'name at least one alert id to acknowledge');
      if (request.by.trim() === '') throw new WalauditError('CONFIG_INVALID', 'say who acknowledges (--by NAME)');
      const found = await deps.alertStore.listAlerts({ ids, limit: ids.length });
      const missing = ids.filter((id) => !found.some((alert) => alert.id === id));
      if (missing.length > 0) throw new WalauditError('ALERT_NOT_FOUND', `no alert with id ${missing.join(', ')}; \`walaudit alerts\` lists them`);
      const result: AcknowledgementResult = { acknowledged: [], alreadyAcknowledged: [] };
      for (const alert of found) {
        if (alert.status === 'acknowledged') {
          result.alreadyAcknowledged.push(alert.id);
          continue;
        }
        const at = new Date(now()).toISOString();
        const acked: Alert = { ...alert, version: alert.version + 1, status: 'acknowledged', updatedAt: at, acknowledgement: { by: request.by, at, note: request.note ?? '' } };
        // The audit trail first: an acknowledgement that is not in it did not happen.
        await deps.recordAcknowledgement?.(acked, request.role);
        await deps.alertStore.saveAlerts([acked]);
        metrics.acknowledged.inc();
        // Whichever instance raised it: the window is named by the alert's actor and table.
        const key = alertWindowKey(alert, policy);
        if (key) await deps.windows.release(key, alert.id);
        pendingUpdates.delete(alert.id);
        for (const queue of queues) queue.enqueue(acked, 'acknowledged');
        tell(acked, 'acknowledged');
        result.acknowledged.push(acked);
      }
      return result;
    },

    slotLost: (detail) => raiseOnce(slotLostAlert(detail, now())),
    integrity: (detail) => raiseOnce(integrityAlert(detail, now())),

    list: (query) => deps.alertStore.listAlerts(query),

    openCounts: () => deps.alertStore.openAlertCounts(),

    watch(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    status: () => ({
      windowStore: deps.windows.kind,
      windowStoreHealthy: deps.windowStoreHealthy?.() ?? true,
      channels: queues.map((queue) => queue.channel),
      raised,
      rebuilt,
    }),

    async idle() {
      await Promise.all(queues.map((queue) => queue.idle()));
    },

    async close() {
      clearInterval(sweep);
      listeners.clear();
      for (const alert of pendingUpdates.values()) for (const queue of queues) queue.enqueue(alert, 'updated');
      pendingUpdates.clear();
      await Promise.all(queues.map((queue) => queue.close()));
      await deps.windows.close();
    },
  };
  return alerter;
}
