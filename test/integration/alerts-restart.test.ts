import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '@walaudit/core';
import { findFreePort, runSetup } from '@walaudit/pg';
import { createTestDatabase, uniqueName, type TestDatabase } from '../support/postgres.js';
import { spawnWalaudit } from '../support/walaudit-process.js';
import { startHttpPeer, type HttpPeer } from '../support/alert-peers.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * A crash between storing a batch and alerting on it, at process level: the first `start` stores
 * the deletions without alerting (alerts disabled stands for the alerter dying after the insert),
 * then a new `start` with alerts rebuilds its windows from the store and raises the lost alert,
 * once: a third start raises nothing more.
 */
describe('walaudit start after a crash between store and alert', () => {
  let db: TestDatabase;
  let webhook: HttpPeer;
  let common: string[];

  beforeAll(async () => {
    db = await createTestDatabase('alerts_restart');
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query(`CREATE TABLE accounts (id int PRIMARY KEY, owner text); INSERT INTO accounts SELECT g, 'o' || g FROM generate_series(1, 300) g`);
    await admin.end();
    const slot = uniqueName('slot');
    await runSetup(db.url, { slot, publication: slot, tables: [], dryRun: false, log: () => {} });
    webhook = await startHttpPeer();
    common = ['--source', db.url, '--data-dir', tempDir('alerts-restart'), '--http-port', String(await findFreePort()), '--slot', slot, '--publication', slot];
  });

  afterAll(async () => {
    await webhook?.close();
    await db?.drop();
  });

  it('raises the lost alert when it starts again, and only once', async () => {
    const first = spawnWalaudit(['start', ...common], { WALAUDIT_ALERTS_ENABLED: 'false' });
    await first.waitFor((status) => status.state === 'running');
    const admin = new pg.Client({ connectionString: db.url, application_name: 'psql' });
    await admin.connect();
    await admin.query('DELETE FROM accounts WHERE id <= 120');
    await admin.end();
    await first.waitFor((status) => status.entriesStored >= 120);
    expect(await first.kill('SIGKILL')).toBe(null);

    const env = { WALAUDIT_ALERTS_WEBHOOK_URL: webhook.url };
    const second = spawnWalaudit(['start', ...common], env);
    const status = await second.waitFor((current) => current.state === 'running');
    expect(status.alerts?.rebuilt).toEqual({ deletionsReplayed: 1, alertsRestored: 0, missedAlerts: 1 });
    const [body] = (await webhook.waitFor(1)) as Array<{ event: string; alert: Alert }>;
    expect(body).toMatchObject({ event: 'raised', alert: { kind: 'bulk-delete', rows: 120, actor: { applicationName: 'psql' } } });
    await second.stop('SIGTERM');

    const third = spawnWalaudit(['start', ...common], env);
    const again = await third.waitFor((current) => current.state === 'running');
    expect(again.alerts?.rebuilt).toEqual({ deletionsReplayed: 1, alertsRestored: 1, missedAlerts: 0 });
    await third.stop('SIGTERM');
    expect(webhook.bodies).toHaveLength(1);
  });
});
