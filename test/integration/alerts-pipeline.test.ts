import pg from 'pg';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BulkDeleteWindow, parseConfig, type Alert } from '@walaudit/core';
import { createClickHouseAlertStore, type ClickHouseStore } from '@walaudit/clickhouse';
import { recordAuditAction, runSetup } from '@walaudit/pg';
import { createAlertMetrics, createAlerter, notifiersFromConfig, type Alerter } from '@walaudit/alerter';
import { createTestDatabase, uniqueName, withUrl, type TestDatabase } from '../support/postgres.js';
import { embeddedStore, startPipeline, type RunningPipeline } from '../support/pipeline-harness.js';
import { startHttpPeer, type HttpPeer } from '../support/alert-peers.js';

/**
 * Alerts end to end: real DELETEs in Postgres, through the real reader, writer and embedded
 * ClickHouse, to the alerter and a local webhook.
 */
describe('alerts through the standalone pipeline', () => {
  let db: TestDatabase;
  let admin: pg.Client;
  let store: ClickHouseStore;
  let pipeline: RunningPipeline;
  let webhook: HttpPeer;
  let alerter: Alerter;
  const slot = uniqueName('slot');
  const publication = uniqueName('pub');
  const carol = uniqueName('carol');
  const log = { info: () => {}, warn: (line: string) => process.stderr.write(`${line}\n`) };

  const makeAlerter = (registry = new Registry()) => {
    const config = parseConfig({ alerts: { webhookUrl: webhook.url, notifyRetryInitialMs: 50, notifyRetryMaxMs: 200 } }).alerts;
    return createAlerter({
      config,
      alertStore: createClickHouseAlertStore(store),
      windows: new BulkDeleteWindow(),
      notifiers: notifiersFromConfig(config),
      metrics: createAlertMetrics(registry),
      log,
      retry: { initialMs: 50, maxMs: 500 },
      recordAcknowledgement: async (alert) => {
        await recordAuditAction(admin, { name: 'alert.acknowledge', alert: alert.id, by: alert.acknowledgement!.by, note: alert.acknowledgement!.note });
      },
    });
  };

  beforeAll(async () => {
    db = await createTestDatabase('alerts');
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query(`
      CREATE TABLE orders (id int PRIMARY KEY, note text);
      CREATE TABLE payments (id int PRIMARY KEY, amount numeric);
      INSERT INTO orders SELECT g, 'order ' || g FROM generate_series(1, 5000) g;
      INSERT INTO payments SELECT g, g * 10 FROM generate_series(1, 30) g;
      CREATE ROLE ${carol} LOGIN;
      GRANT ALL ON ALL TABLES IN SCHEMA public TO ${carol};
    `);
    await runSetup(db.url, { slot, publication, tables: [], dryRun: false, log: () => {} });
    store = await embeddedStore(uniqueName('alerts'));
    webhook = await startHttpPeer();
    alerter = makeAlerter();
    pipeline = await startPipeline(db.url, store, {
      source: { slot, publication },
      pipeline: { batchSize: 1000 },
      rules: [{ tables: ['payments'], critical: true }, { tables: ['*'] }],
    }, { observers: [alerter.observe] });
  });

  afterAll(async () => {
    await pipeline?.stop();
    await alerter?.close();
    await webhook?.close();
    await admin?.end();
    await store?.close();
    await db?.drop();
  });

  it('a 5000-row DELETE in five batches raises exactly one bulk-delete alert, which reaches the webhook, then its full count', async () => {
    const psql = new pg.Client({ connectionString: withUrl(db.url, { user: carol }), application_name: 'psql' });
    await psql.connect();
    await psql.query('DELETE FROM orders');
    await psql.end();
    await pipeline.waitForEntries(5000);
    const [body] = (await webhook.waitFor(1)) as Array<{ text: string; event: string; alert: Alert }>;
    expect(body!.event).toBe('raised');
    expect(body!.text).toMatch(new RegExp(`^\\[walaudit\\] bulk delete: ${carol} from 127\\.0\\.0\\.1 \\(psql\\) deleted \\d+ rows within 10 min \\(threshold 50\\): public.orders`));
    expect(body!.alert).toMatchObject({ kind: 'bulk-delete', actor: { name: carol, dbUser: carol, applicationName: 'psql' } });

    // Raised at the first batch, with its count; the full count follows in one update within seconds.
    const [, update] = (await webhook.waitFor(2)) as Array<{ event: string; alert: Alert }>;
    expect(update).toMatchObject({ event: 'updated', alert: { id: body!.alert.id, rows: 5000 } });
    expect(webhook.bodies).toHaveLength(2);

    const alerts = await alerter.list({ limit: 100 });
    expect(alerts).toHaveLength(1);
    const [alert] = alerts;
    expect(alert).toMatchObject({ kind: 'bulk-delete', status: 'open', rows: 5000, transactions: 1, tables: [{ table: 'public.orders', rows: 5000, allRows: false }] });
    // The alert leads straight to the entries: its transaction holds all 5000 deletions.
    const entries = await store.queryLog({ xid: alert!.xids[0]!, limit: 10_000 });
    expect(entries.filter((entry) => entry.op === 'delete')).toHaveLength(5000);
    expect(entries.map((entry) => entry.id)).toContain(alert!.firstEntryId);
    expect(entries.map((entry) => entry.id)).toContain(alert!.lastEntryId);
  });

  it('a one-row delete on a critical table raises its own alert with the row key', async () => {
    await admin.query('DELETE FROM payments WHERE id = 7');
    const bodies = (await webhook.waitFor(3)) as Array<{ alert: Alert }>;
    const critical = bodies[2]!.alert;
    expect(critical).toMatchObject({ kind: 'critical-table', rows: 1, keys: [{ id: '7' }], tables: [{ table: 'public.payments', rows: 1 }] });
    expect(critical.xid).toBeGreaterThan(0);
  });

  it('acknowledges an alert: a new version, a walaudit.action entry in the audit trail, a webhook message', async () => {
    const open = (await alerter.list({ open: true, limit: 10 })).find((alert) => alert.kind === 'bulk-delete');
    const result = await alerter.acknowledge({ ids: [open!.id], by: 'oncall-dana', note: 'planned cleanup' });
    expect(result.acknowledged.map((alert) => alert.id)).toEqual([open!.id]);
    expect((await alerter.list({ ids: [open!.id], limit: 1 }))[0]).toMatchObject({ status: 'acknowledged', acknowledgement: { by: 'oncall-dana', note: 'planned cleanup' } });
    expect((await alerter.list({ open: true, limit: 10 })).map((alert) => alert.id)).not.toContain(open!.id);
    const bodies = (await webhook.waitFor(4)) as Array<{ event: string; text: string }>;
    expect(bodies[3]).toMatchObject({ event: 'acknowledged' });
    expect(bodies[3]!.text).toContain('acknowledged by oncall-dana: planned cleanup');
    const deadline = Date.now() + 30_000;
    for (;;) {
      const actions = await store.queryLog({ op: 'action', limit: 10 });
      const ack = actions.find((entry) => entry.action?.name === 'alert.acknowledge');
      if (ack) {
        expect(ack.action).toMatchObject({ alert: open!.id, by: 'oncall-dana', note: 'planned cleanup' });
        break;
      }
      if (Date.now() > deadline) throw new Error('the acknowledgement never reached the audit log');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await alerter.acknowledge({ ids: [open!.id], by: 'x' })).alreadyAcknowledged).toEqual([open!.id]);
    await expect(alerter.acknowledge({ ids: ['ffffffffffff'], by: 'x' })).rejects.toThrow(/ALERT_NOT_FOUND|no alert with id ffffffffffff/);
  });

  it('after a crash between storing and alerting, the rebuilt windows raise the lost alert once', async () => {
    // The pipeline goes on without the alerter (as if it had died after the store's insert).
    await pipeline.stop();
    const before = await store.countEntries();
    pipeline = await startPipeline(db.url, store, { source: { slot, publication }, rules: [{ tables: ['payments'], critical: true }, { tables: ['*'] }] });
    const psql = new pg.Client({ connectionString: withUrl(db.url, { user: carol }), application_name: 'cleanup.sh' });
    await psql.connect();
    await psql.query('INSERT INTO orders SELECT g, NULL FROM generate_series(1, 80) g');
    await psql.query('DELETE FROM orders WHERE id <= 40');
    await psql.query('DELETE FROM orders WHERE id > 40');
    await psql.end();
    await pipeline.waitForEntries(before + 160);
    const received = webhook.bodies.length;

    const restarted = makeAlerter();
    const report = await restarted.rebuild();
    await restarted.idle();
    expect(report.missedAlerts).toBe(1);
    expect(report.alertsRestored).toBe(0);
    expect(webhook.bodies).toHaveLength(received + 1);
    expect((webhook.bodies.at(-1) as { alert: Alert }).alert).toMatchObject({ kind: 'bulk-delete', rows: 80, transactions: 2, actor: { name: carol, applicationName: 'cleanup.sh' } });

    // A second restart finds the alert stored: nothing raised twice, the open alert absorbs again.
    const again = makeAlerter();
    const second = await again.rebuild();
    await again.idle();
    expect(second).toMatchObject({ missedAlerts: 0, alertsRestored: 1 });
    expect(webhook.bodies).toHaveLength(received + 1);
    await restarted.close();
    await again.close();
  });
});
