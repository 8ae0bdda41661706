import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { BulkDeleteWindow, parseConfig, WalauditError, type Alert, type AlertEvent, type AlertsConfig, type ChangeEvent, type Notifier } from '@walaudit/core';
import { MemoryAlertStore } from '../../../test/support/memory-alert-store.js';
import { MemoryAuditStore } from '../../../test/support/memory-audit-store.js';
import { linkedEntries } from '../../../test/support/linked-entries.js';
import { appUser, audited, bulkDelete } from '../../../test/support/change-events.js';
import { createAlertMetrics } from './alert-metrics.js';
import { createAlerter, type Alerter, type AlerterDeps } from './alerter.js';

// The alerter against in-memory stores and a recording channel (the ClickHouse alert store, Redis
// windows and the real channels are covered by the integration tests).

/** The one stream of standalone mode, as the audit writer passes it on. */
const STREAM = { partition: 0 };
/** The alerter's clock: five seconds after the deletions' commit time (change-events' COMMIT_TIME). */
const NOW = Date.parse('2026-03-02T10:00:05Z');

/** A channel that records what it is sent; `hang` makes every send wait until aborted. */
class RecordingNotifier implements Notifier {
  readonly channel = 'webhook';
  readonly sent: Array<{ event: AlertEvent; id: string; rows: number; status: Alert['status'] }> = [];
  hang = false;
  attempts = 0;

  async send(alert: Alert, event: AlertEvent, signal: AbortSignal): Promise<void> {
    this.attempts++;
    if (this.hang) await new Promise((_, reject) => signal.addEventListener('abort', () => reject(new WalauditError('NOTIFY_FAILED', 'webhook timed out'))));
    this.sent.push({ event, id: alert.id, rows: alert.rows, status: alert.status });
  }
}

const running: Alerter[] = [];
afterEach(async () => {
  for (const alerter of running.splice(0)) await alerter.close();
});

function start(alerts: Record<string, unknown> = {}, more: Partial<AlerterDeps> & { clock?: { now: number } } = {}) {
  const config: AlertsConfig = parseConfig({ alerts: { notifyRetryInitialMs: 1, notifyRetryMaxMs: 2, ...alerts } }).alerts;
  const audit = new MemoryAuditStore();
  const alertStore = new MemoryAlertStore(audit);
  const notifier = new RecordingNotifier();
  const registry = new Registry();
  const warnings: string[] = [];
  const clock = more.clock ?? { now: NOW };
  const alerter = createAlerter({
    config,
    alertStore,
    windows: new BulkDeleteWindow(),
    notifiers: [notifier],
    metrics: createAlertMetrics(registry),
    log: { info: () => undefined, warn: (line) => warnings.push(line) },
    retry: { initialMs: 1, maxMs: 2 },
    now: () => clock.now,
    ...more,
  });
  running.push(alerter);
  return { alerter, audit, alertStore, notifier, registry, warnings, clock };
}

/** `rows` deletes of public.orders by `user` in the transaction committed at 0/<n>0000. */
const deletes = (n: number, rows: number, user = 'night-owl', table = 'orders'): ChangeEvent[] =>
  bulkDelete({ lsn: n * 0x10000, xid: 500 + n, actor: appUser(user) }, table, rows);

describe('alerter: bulk deletions', () => {
  it('raises one alert when an actor deletes more rows than the threshold within the window', async () => {
    const { alerter, alertStore, notifier } = start();
    await alerter.observe(audited(deletes(1, 50)), STREAM);
    expect(await alerter.list({ limit: 10 })).toEqual([]);

    // A second transaction of the same actor within the window: 80 rows, over 50.
    await alerter.observe(audited(deletes(2, 30)), STREAM);
    await alerter.idle();
    const alerts = await alerter.list({ limit: 10 });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      kind: 'bulk-delete', status: 'open', rows: 80, transactions: 2, xids: [501, 502], actor: { name: 'night-owl', appUser: 'night-owl' },
      tables: [{ table: 'public.orders', rows: 80, allRows: false }], window: { minutes: 10, threshold: 50 },
      firstEntryId: deletes(1, 1)[0]!.id, lastEntryId: deletes(2, 30)[29]!.id,
    });
    expect(notifier.sent).toEqual([{ event: 'raised', id: alerts[0]!.id, rows: 80, status: 'open' }]);
    expect(alertStore.versions).toHaveLength(1);
    expect(alerter.status()).toMatchObject({ windowStore: 'memory', channels: ['webhook'], raised: 1 });
  });

  it('counts each actor apart and leaves excluded actors out', async () => {
    const { alerter } = start({ excludeActors: ['cleanup-*'] });
    await alerter.observe(audited([...deletes(1, 40, 'ann'), ...deletes(2, 40, 'bob')]), STREAM);
    await alerter.observe(audited(deletes(3, 500, 'cleanup-nightly')), STREAM);
    expect(await alerter.list({ limit: 10 })).toEqual([]);
  });

  it('grows the open alert with later deletions: every version stored, the update sent later, at most once a minute', async () => {
    const { alerter, alertStore, notifier, clock } = start();
    await alerter.observe(audited(deletes(1, 60)), STREAM);
    await alerter.idle();
    clock.now += 1_000;
    await alerter.observe(audited(deletes(2, 5)), STREAM);
    await alerter.observe(audited(deletes(3, 5)), STREAM);
    await alerter.idle();

    const [alert] = await alerter.list({ limit: 10 });
    expect(alert).toMatchObject({ rows: 70, version: 3, transactions: 3 });
    expect(alertStore.versions.map((version) => version.rows)).toEqual([60, 65, 70]);
    // Within seconds of the alert: the update waits, so the channel is not flooded.
    expect(notifier.sent.map((sent) => sent.event)).toEqual(['raised']);
    // Closing sends the newest state of what is pending, once.
    await alerter.close();
    expect(notifier.sent).toEqual([
      { event: 'raised', id: alert!.id, rows: 60, status: 'open' },
      { event: 'updated', id: alert!.id, rows: 70, status: 'open' },
    ]);
  });

  it('retries storing the alert while the store is unreachable', async () => {
    const { alerter, alertStore } = start();
    alertStore.failSaves(new WalauditError('STORE_UNREACHABLE', 'ClickHouse at memory is not reachable', { retriable: true }), 2);
    await alerter.observe(audited(deletes(1, 60)), STREAM);
    expect(alertStore.saveCalls).toBe(3);
    expect(await alerter.list({ limit: 10 })).toHaveLength(1);
  });

  it('does not hold the pipeline for a channel that does not answer: observe() returns once the alert is stored', async () => {
    // The attempt times out soon after the test: closing waits for the attempt in flight.
    const { alerter, notifier } = start({ notifyTimeoutMs: 200, notifyAttempts: 1 });
    notifier.hang = true;
    await alerter.observe(audited(deletes(1, 60, 'slow-hook-user')), STREAM);
    expect((await alerter.list({ limit: 10 })).map((alert) => alert.actor.name)).toEqual(['slow-hook-user']);
    expect(notifier.attempts).toBe(1);
    expect(notifier.sent).toEqual([]);
  });
});

describe('alerter: critical tables', () => {
  it('raises an alert for every transaction that deletes from a critical table, with the keys, whatever the count', async () => {
    const { alerter, notifier } = start({ tables: [{ tables: ['payments'], critical: true }] });
    const tx = deletes(1, 3, 'ann', 'payments');
    // One transaction's deletions in two batches grow one alert.
    await alerter.observe(audited(tx.slice(0, 2)), STREAM);
    await alerter.observe(audited(tx.slice(2)), STREAM);
    await alerter.observe(audited(deletes(2, 1, 'ann', 'payments')), STREAM);
    await alerter.idle();

    const alerts = (await alerter.list({ limit: 10 })).sort((a, b) => a.xid! - b.xid!);
    expect(alerts.map((alert) => [alert.kind, alert.xid, alert.rows, alert.version])).toEqual([
      ['critical-table', 501, 3, 2],
      ['critical-table', 502, 1, 1],
    ]);
    expect(alerts[0]!.keys).toEqual([{ id: '1' }, { id: '2' }, { id: '3' }]);
    expect(notifier.sent.filter((sent) => sent.event === 'raised')).toHaveLength(2);
  });

  it('takes the critical mark of the audit rule the entry was stored under', async () => {
    const { alerter } = start();
    await alerter.observe(audited(deletes(1, 1, 'ann', 'vault'), 90, true), STREAM);
    expect((await alerter.list({ limit: 10 })).map((alert) => alert.kind)).toEqual(['critical-table']);
  });
});

describe('alerter: quiet hours', () => {
  it('stores the alert without sending it, and says so in the log', async () => {
    // 09:00-11:00 UTC holds NOW (10:00:05).
    const { alerter, notifier, registry, warnings } = start({ quietHours: '09:00-11:00' });
    await alerter.observe(audited(deletes(1, 60)), STREAM);
    await alerter.idle();
    const alerts = await alerter.list({ open: true, limit: 10 });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'bulk-delete', rows: 60, actor: { name: 'night-owl' } });
    expect(notifier.sent).toEqual([]);
    // The process's log still says it, once, and why nothing was sent.
    expect(warnings.filter((line) => line.startsWith('alert raised: '))).toEqual([
      `alert raised: bulk delete: night-owl deleted 60 rows within 10 min (threshold 50): public.orders 60 rows; alert ${alerts[0]!.id} (quiet hours: stored, not sent)`,
    ]);
    expect(await registry.getSingleMetricAsString('walaudit_alert_deliveries_total')).toContain('walaudit_alert_deliveries_total{channel="webhook",outcome="suppressed"} 1');
  });

  it('sends outside the quiet hours, also across midnight', async () => {
    const { alerter, notifier } = start({ quietHours: '22:00-06:00' });
    await alerter.observe(audited(deletes(1, 60)), STREAM);
    await alerter.idle();
    expect(notifier.sent.map((sent) => sent.event)).toEqual(['raised']);
  });
});

describe('alerter: acknowledgement', () => {
  it('records it in the audit trail first, stores it, sends it (even in quiet hours) and starts counting afresh', async () => {
    const order: string[] = [];
    const { alerter, alertStore, notifier, clock } = start(
      { quietHours: '09:00-11:00' },
      { recordAcknowledgement: async (alert) => void order.push(`audit trail: ${alert.id} ${alert.status}`) },
    );
    await alerter.observe(audited(deletes(1, 60)), STREAM);
    const [raised] = await alerter.list({ limit: 10 });
    const saved = alertStore.saveCalls;

    clock.now += 60_000;
    const result = await alerter.acknowledge({ ids: [raised!.id, raised!.id], by: 'dba', note: 'planned cleanup' });
    await alerter.idle();
    expect(order).toEqual([`audit trail: ${raised!.id} acknowledged`]);
    expect(alertStore.saveCalls).toBe(saved + 1);
    expect(result.alreadyAcknowledged).toEqual([]);
    expect(result.acknowledged).toMatchObject([{ id: raised!.id, version: 2, status: 'acknowledged', acknowledgement: { by: 'dba', note: 'planned cleanup', at: new Date(clock.now).toISOString() } }]);
    expect(await alerter.list({ open: true, limit: 10 })).toEqual([]);
    expect(notifier.sent).toEqual([{ event: 'acknowledged', id: raised!.id, rows: 60, status: 'acknowledged' }]);

    // The acknowledged alert absorbs nothing more: 10 rows do not alert, 51 new ones raise a new alert.
    await alerter.observe(audited(deletes(2, 10)), STREAM);
    expect(await alerter.list({ open: true, limit: 10 })).toEqual([]);
    await alerter.observe(audited(deletes(3, 41)), STREAM);
    const open = await alerter.list({ open: true, limit: 10 });
    expect(open).toHaveLength(1);
    expect(open[0]!.id).not.toBe(raised!.id);
    expect(open[0]!.rows).toBe(51);

    const again = await alerter.acknowledge({ ids: [raised!.id], by: 'dba' });
    expect(again).toEqual({ acknowledged: [], alreadyAcknowledged: [raised!.id] });
  });

  it('refuses an unknown id, no id, and no name', async () => {
    const { alerter } = start();
    await expect(alerter.acknowledge({ ids: ['0123456789ab'], by: 'dba' })).rejects.toMatchObject({ code: 'ALERT_NOT_FOUND' });
    await expect(alerter.acknowledge({ ids: [], by: 'dba' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await alerter.observe(audited(deletes(1, 60)), STREAM);
    const [alert] = await alerter.list({ limit: 1 });
    await expect(alerter.acknowledge({ ids: [alert!.id], by: ' ' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});

describe('alerter: restart', () => {
  it('raises the alert a crash kept from being raised, from the deletions stored, and not one already stored', async () => {
    const first = start();
    // Stored by the writer, then the process died before the alerter saw the batch.
    const lost = deletes(1, 60);
    const stored = deletes(2, 55, 'ann');
    await first.alerter.observe(audited(stored), STREAM);
    await first.alerter.idle();
    const { entries, bodies } = linkedEntries(new Map(), audited([...lost, ...stored]));
    await first.audit.insertEntries(entries, bodies);
    expect(first.notifier.sent.map((sent) => sent.event)).toEqual(['raised']);

    const restarted = start({}, { alertStore: first.alertStore });
    const report = await restarted.alerter.rebuild();
    await restarted.alerter.idle();
    expect(report).toEqual({ deletionsReplayed: 2, alertsRestored: 1, missedAlerts: 1 });
    const alerts = await restarted.alerter.list({ limit: 10 });
    expect(alerts.map((alert) => [alert.actor.name, alert.rows]).sort()).toEqual([['ann', 55], ['night-owl', 60]]);
    // Only the lost one is sent: ann's was sent before the crash.
    expect(restarted.notifier.sent.map((sent) => [sent.event, sent.rows])).toEqual([['raised', 60]]);
  });
});

describe('alerter: watchers (the live event stream)', () => {
  it('tells each watcher of an alert once it is stored, and of its acknowledgement; a failing watcher harms nothing', async () => {
    const { alerter, alertStore, warnings } = start();
    const seen: string[] = [];
    alerter.watch(() => {
      throw new Error('console gone');
    });
    const stop = alerter.watch((alert, event) => seen.push(`${event} ${alert.kind} ${alert.status} stored=${alertStore.saveCalls > 0}`));
    await alerter.observe(audited(deletes(1, 60)), STREAM);
    expect(seen).toEqual(['raised bulk-delete open stored=true']);
    expect(await alerter.openCounts()).toEqual({ 'bulk-delete': 1 });

    const [raised] = await alerter.list({ limit: 1 });
    await alerter.acknowledge({ ids: [raised!.id], by: 'dba' });
    expect(seen.at(-1)).toBe('acknowledged bulk-delete acknowledged stored=true');
    expect(await alerter.openCounts()).toEqual({});
    expect(warnings.some((line) => line.includes('console gone'))).toBe(true);

    stop();
    await alerter.observe(audited(deletes(2, 60)), STREAM);
    expect(seen).toHaveLength(2);
  });
});
