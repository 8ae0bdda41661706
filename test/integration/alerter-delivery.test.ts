import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BulkDeleteWindow, parseConfig, type AuditedEvent, type ChangeEvent } from '@walaudit/core';
import { createClickHouseAlertStore, type ClickHouseStore } from '@walaudit/clickhouse';
import { createAlertMetrics, createAlerter } from '@walaudit/alerter';
import { notifiersFromConfig } from '@walaudit/alerter';
import { embeddedStore } from '../support/pipeline-harness.js';
import { uniqueName } from '../support/postgres.js';
import { startHttpPeer, type HttpPeer } from '../support/alert-peers.js';

/** The one stream of standalone mode, as the audit writer passes it on. */
const STREAM = { partition: 0 };

/** The alerter's side of delivery: quiet hours, and a hanging channel that must not hold the pipeline. */
describe('alerter delivery', () => {
  let store: ClickHouseStore;
  let webhook: HttpPeer;

  beforeAll(async () => {
    store = await embeddedStore(uniqueName('quiet'));
    webhook = await startHttpPeer();
  });
  afterAll(async () => {
    await webhook?.close();
    await store?.close();
  });

  const batch = (rows: number, user = 'night-owl', lsn = 0xabcdef): AuditedEvent[] =>
    Array.from({ length: rows }, (_, seq): AuditedEvent => {
      const event: ChangeEvent = {
        id: `${lsn.toString(16).toUpperCase().padStart(16, '0')}-${seq}`, op: 'delete', schema: 'public', table: 'orders', keyKind: 'primary-key', pk: { id: String(seq) }, columns: [],
        before: { id: String(seq) }, after: null, changed: [], tx: { xid: lsn, lsn: `0/${lsn.toString(16).toUpperCase()}`, commitTime: new Date().toISOString(), seq },
        actor: { app: { user } },
      };
      return { event, retentionDays: 90, critical: false };
    });

  it('a hanging webhook does not hold the pipeline: observe() returns once the alert is stored', async () => {
    const hanging = await startHttpPeer();
    hanging.delayMs = 20_000;
    const config = parseConfig({ alerts: { webhookUrl: hanging.url, notifyTimeoutMs: 15_000 } }).alerts;
    const alerter = createAlerter({
      config,
      alertStore: createClickHouseAlertStore(store),
      windows: new BulkDeleteWindow(),
      notifiers: notifiersFromConfig(config),
      metrics: createAlertMetrics(new Registry()),
      log: { info: () => {}, warn: () => {} },
      retry: { initialMs: 50, maxMs: 500 },
    });
    try {
      await alerter.observe(batch(60, 'slow-hook-user', 0x1234), STREAM);
      expect((await alerter.list({ limit: 10 })).some((alert) => alert.actor.name === 'slow-hook-user')).toBe(true);
      // The webhook has the request but has not answered: delivery is still in flight.
      while (hanging.requests === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(hanging.bodies).toHaveLength(0);
    } finally {
      await alerter.close();
      await hanging.close();
    }
  });

  it('quiet hours: stores the alert without sending it', async () => {
    const now = new Date();
    const hhmm = (date: Date) => date.toISOString().slice(11, 16);
    // A quiet period from an hour ago to an hour from now (UTC), whatever the time of the run.
    const quietHours = `${hhmm(new Date(now.getTime() - 3_600_000))}-${hhmm(new Date(now.getTime() + 3_600_000))}`;
    const config = parseConfig({ alerts: { webhookUrl: webhook.url, quietHours } }).alerts;
    const registry = new Registry();
    const warnings: string[] = [];
    const alerter = createAlerter({
      config,
      alertStore: createClickHouseAlertStore(store),
      windows: new BulkDeleteWindow(),
      notifiers: notifiersFromConfig(config),
      metrics: createAlertMetrics(registry),
      log: { info: () => {}, warn: (line) => warnings.push(line) },
      retry: { initialMs: 50, maxMs: 500 },
    });
    await alerter.observe(batch(60), STREAM);
    await alerter.idle();
    const alerts = (await alerter.list({ open: true, limit: 10 })).filter((alert) => alert.actor.name === 'night-owl');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'bulk-delete', rows: 60, actor: { name: 'night-owl' } });
    expect(webhook.requests).toBe(0);
    // The process's log still says it, once, and why nothing was sent.
    const raised = warnings.filter((line) => line.startsWith('alert raised: '));
    expect(raised).toEqual([`alert raised: bulk delete: night-owl deleted 60 rows within 10 min (threshold 50): public.orders 60 rows; alert ${alerts[0]!.id} (quiet hours: stored, not sent)`]);
    expect(await registry.getSingleMetricAsString('walaudit_alert_deliveries_total')).toContain('walaudit_alert_deliveries_total{channel="webhook",outcome="suppressed"} 1');
    await alerter.close();
  });
});
