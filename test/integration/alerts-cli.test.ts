import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '@walaudit/core';
import { findFreePort, runSetup, withAuditContext } from '@walaudit/pg';
import { createTestDatabase, uniqueName, type TestDatabase } from '../support/postgres.js';
import { runWalaudit, spawnWalaudit, type WalauditProcess } from '../support/walaudit-process.js';
import { startHttpPeer, type HttpPeer } from '../support/alert-peers.js';
import { tempDir } from '../support/temp-dir.js';

/** `walaudit start` with alerts, and `walaudit alerts` / `alerts ack` as a user runs them. */
describe('walaudit alerts (CLI)', () => {
  let db: TestDatabase;
  let webhook: HttpPeer;
  let start: WalauditProcess;
  let common: string[];
  const slot = uniqueName('slot');

  beforeAll(async () => {
    db = await createTestDatabase('alerts_cli');
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query(`CREATE TABLE invoices (id int PRIMARY KEY, total numeric); INSERT INTO invoices SELECT g, g FROM generate_series(1, 400) g`);
    await admin.end();
    await runSetup(db.url, { slot, publication: slot, tables: [], dryRun: false, log: () => {} });
    webhook = await startHttpPeer();
    const port = await findFreePort();
    common = ['--source', db.url, '--data-dir', tempDir('alerts-cli'), '--http-port', String(port), '--slot', slot, '--publication', slot];
    start = spawnWalaudit(['start', ...common], { WALAUDIT_ALERTS_WEBHOOK_URL: webhook.url, WALAUDIT_ALERTS_THRESHOLD: '100' });
    await start.waitFor((status) => status.state === 'running');
  });

  afterAll(async () => {
    await start?.kill('SIGTERM');
    await webhook?.close();
    await db?.drop();
  });

  it('lists the alert of a bulk DELETE, acknowledges it through the running start, and records who did', async () => {
    const admin = new pg.Client({ connectionString: db.url, application_name: 'psql' });
    await admin.connect();
    await admin.query('DELETE FROM invoices WHERE id <= 150');
    await admin.end();
    await webhook.waitFor(1);
    const status = await start.status();
    expect(status?.alerts).toMatchObject({ windowStore: 'memory', windowStoreHealthy: true, channels: ['webhook'], raised: 1 });

    const listed = await runWalaudit(['alerts', '--json', ...common]);
    expect(listed.code).toBe(0);
    const alerts = listed.stdout.trim().split('\n').map((line) => JSON.parse(line) as Alert);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'bulk-delete', rows: 150, status: 'open', window: { threshold: 100, minutes: 10 } });

    const text = await runWalaudit(['alerts', '--open', ...common]);
    expect(text.stdout).toMatch(new RegExp(`^${alerts[0]!.id}  .* bulk-delete .* 150 rows: public.invoices 150 .* OPEN$`, 'm'));

    const missing = await runWalaudit(['alerts', 'ack', alerts[0]!.id, 'deadbeef0000', '--by', 'dana', ...common]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('ALERT_NOT_FOUND');
    expect(missing.stderr).toContain('deadbeef0000');

    const ack = await runWalaudit(['alerts', 'ack', alerts[0]!.id, '--by', 'dana', '--note', 'expected purge', ...common]);
    expect(ack.stderr).toBe('');
    expect(ack.code).toBe(0);
    expect(ack.stdout).toContain(`acknowledged ${alerts[0]!.id} (bulk-delete`);
    expect((await runWalaudit(['alerts', '--open', ...common])).stdout.trim()).toBe('no open alerts');

    // The acknowledgement went through the WAL into the hash-chained log, under dana's name.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const log = await runWalaudit(['log', '--op', 'action', '--json', ...common]);
      const entry = log.stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line)).find((e) => e.action?.name === 'alert.acknowledge');
      if (entry) {
        expect(entry.action).toMatchObject({ alert: alerts[0]!.id, by: 'dana', note: 'expected purge' });
        expect(entry.actor.app).toMatchObject({ user: 'dana', reason: 'expected purge' });
        break;
      }
      if (Date.now() > deadline) throw new Error(`no acknowledgement in the log: ${log.stdout}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const verify = await runWalaudit(['verify', ...common]);
    expect(verify.code).toBe(0);
  });

  it('reads and acknowledges alerts on the store itself when no start runs', async () => {
    const app = new pg.Client({ connectionString: db.url });
    await app.connect();
    await withAuditContext(app, { user: 'batch-job@example.com' }, (tx) => tx.query('DELETE FROM invoices'));
    await app.end();
    // Bodies so far: the first alert, its acknowledgement; now this one.
    await webhook.waitFor(3);
    await start.stop('SIGTERM');

    const listed = await runWalaudit(['alerts', ...common]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/bulk-delete .* acknowledged by dana \(expected purge\)$/m);
    const open = listed.stdout.split('\n').find((line) => line.includes('batch-job@example.com'))!;
    expect(open).toMatch(/ 250 rows: public.invoices 250 .* OPEN$/);
    const id = open.split(' ')[0]!;
    const ack = await runWalaudit(['alerts', 'ack', id, '--by', 'erin', ...common]);
    expect(ack.stderr).toBe('');
    expect(ack.stdout).toContain(`acknowledged ${id}`);
    expect((await runWalaudit(['alerts', '--open', ...common])).stdout.trim()).toBe('no open alerts');

    // The acknowledgement waited in the WAL; the next start stores it in the log.
    start = spawnWalaudit(['start', ...common], { WALAUDIT_ALERTS_WEBHOOK_URL: webhook.url, WALAUDIT_ALERTS_THRESHOLD: '100' });
    await start.waitFor((status) => status.state === 'running');
    const deadline = Date.now() + 30_000;
    for (;;) {
      const log = await runWalaudit(['log', '--op', 'action', '--json', ...common]);
      const acks = log.stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line)).filter((e) => e.action?.name === 'alert.acknowledge');
      if (acks.some((entry) => entry.action.alert === id && entry.action.by === 'erin')) break;
      if (Date.now() > deadline) throw new Error(`no offline acknowledgement in the log: ${log.stdout}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
});
