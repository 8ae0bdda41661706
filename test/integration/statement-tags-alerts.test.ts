import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BulkDeleteWindow, parseConfig, type Alert } from '@walaudit/core';
import { runSetup } from '@walaudit/pg';
import { createAlertMetrics, createAlerter, type Alerter } from '@walaudit/alerter';
import type { ClickHouseStore } from '@walaudit/clickhouse';
import { connect, createTestDatabase, uniqueName, type TestDatabase } from '../support/postgres.js';
import { embeddedStore, startPipeline, waitForCount, type RunningPipeline } from '../support/pipeline-harness.js';
import { MemoryAlertStore } from '../support/memory-alert-store.js';

/**
 * Bulk-delete windows per app user or per trace, from real statements' sqlcommenter tags: one app
 * user (named by a tag, behind one shared role) deletes in three requests. Counted per actor, the
 * requests add up; counted per trace (alerts.countBy: trace), only the one large request alerts.
 */

const TRACES = { a: '4bf92f3577b34da6a3ce929d0e0e4736', b: '0af7651916cd43dd8448eb211c80319c', c: '5bd66ef5095369c7b0d1f8f4bd33716a' };
const comment = (trace: string, n: number) => `/*traceparent='00-${trace}-${n.toString(16).padStart(16, '0')}-01',user='erin'*/`;

describe('bulk-delete windows per trace', () => {
  let db: TestDatabase;
  let store: ClickHouseStore;
  let pipeline: RunningPipeline;
  const alerters: Record<'actor' | 'trace', { alerter: Alerter; alerts: MemoryAlertStore }> = {} as never;
  const slot = uniqueName('slot');
  const publication = uniqueName('pub');

  const makeAlerter = (countBy: 'actor' | 'trace') => {
    const config = parseConfig({ alerts: { threshold: 5, countBy } }).alerts;
    const alerts = new MemoryAlertStore();
    const alerter = createAlerter({
      config,
      alertStore: alerts,
      windows: new BulkDeleteWindow(),
      notifiers: [],
      metrics: createAlertMetrics(new Registry()),
      log: { info: () => {}, warn: () => {} },
      retry: { initialMs: 50, maxMs: 500 },
    });
    return { alerter, alerts };
  };

  beforeAll(async () => {
    db = await createTestDatabase('tagalerts');
    const admin = await connect(db.url);
    await admin.query('CREATE TABLE items (id int PRIMARY KEY); INSERT INTO items SELECT generate_series(1, 40);');
    await admin.end();
    await runSetup(db.url, { slot, publication, tables: [], dryRun: false, log: () => {} });
    store = await embeddedStore(uniqueName('tagalerts'));
    alerters.actor = makeAlerter('actor');
    alerters.trace = makeAlerter('trace');
    pipeline = await startPipeline(db.url, store, { source: { slot, publication }, actor: { appUserFromTags: ['user'] } }, {
      observers: [alerters.actor.alerter.observe, alerters.trace.alerter.observe],
    });
  });

  afterAll(async () => {
    await pipeline?.stop();
    await alerters.actor?.alerter.close();
    await alerters.trace?.alerter.close();
    await store?.close();
    await db?.drop();
  });

  const bulkAlerts = async (countBy: 'actor' | 'trace'): Promise<Alert[]> =>
    (await alerters[countBy].alerts.listAlerts({ limit: 100 })).filter((alert) => alert.kind === 'bulk-delete');

  it('adds up one user\'s requests per actor, and counts each request on its own per trace', async () => {
    const client = await connect(db.url);
    let id = 1;
    // Requests a and b delete 4 rows each (one statement per row), request c deletes 6.
    for (const [trace, rows] of [[TRACES.a, 4], [TRACES.b, 4], [TRACES.c, 6]] as const) {
      for (let i = 0; i < rows; i++, id++) await client.query(`DELETE FROM items WHERE id = ${id} ${comment(trace, id)}`);
    }
    await client.end();
    await waitForCount(store, 14);
    for (const countBy of ['actor', 'trace'] as const) {
      const deadline = Date.now() + 10_000;
      while ((await bulkAlerts(countBy)).length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The alerter stores each batch's alerts before the slot moves on: by now both have seen all 14.
    await new Promise((resolve) => setTimeout(resolve, 500));

    const byActor = await bulkAlerts('actor');
    expect(byActor).toHaveLength(1);
    expect(byActor[0]!.actor).toMatchObject({ name: 'erin', appUser: 'erin' });
    expect(byActor[0]!.rows).toBe(14);

    const byTrace = await bulkAlerts('trace');
    expect(byTrace).toHaveLength(1);
    expect(byTrace[0]!.actor).toMatchObject({ name: 'erin', traceId: TRACES.c });
    expect(byTrace[0]!.rows).toBe(6);
  });
});
