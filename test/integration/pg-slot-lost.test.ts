import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort, startLocalPostgres, type LocalPostgres } from '@walaudit/pg';
import { query, uniqueName } from '../support/postgres.js';
import { runWalaudit, spawnWalaudit } from '../support/walaudit-process.js';
import { tempDir } from '../support/temp-dir.js';
import { startHttpPeer, type HttpPeer } from '../support/alert-peers.js';

/**
 * A slot Postgres invalidates (max_slot_wal_keep_size exceeded while walaudit is down) is said by
 * status, start and setup, and only `setup --recreate-lost-slot` continues, leaving a gap entry.
 * Its own server: max_slot_wal_keep_size is cluster-wide and would threaten every other test's slot.
 */
describe('a lost replication slot', () => {
  let server: LocalPostgres;
  let common: string[];
  let webhook: HttpPeer;
  const slot = uniqueName('lost');

  beforeAll(async () => {
    server = await startLocalPostgres({ durable: false });
    webhook = await startHttpPeer();
    await query(server.url, `ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'`);
    await query(server.url, `SELECT pg_reload_conf()`);
    await query(server.url, `CREATE TABLE payments (id int PRIMARY KEY, amount numeric)`);
    common = ['--source', server.url, '--data-dir', tempDir('slot-lost'), '--http-port', String(await findFreePort()), '--slot', slot, '--publication', slot];
    const setup = await runWalaudit(['setup', ...common]);
    expect(setup.code, setup.stderr).toBe(0);
  });

  afterAll(async () => {
    await webhook?.close();
    await server?.stop();
  });

  async function walStatus(): Promise<string | null> {
    const [row] = await query<{ wal_status: string | null }>(server.url, `SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1`, [slot]);
    return row?.wal_status ?? null;
  }

  it('is reported by status (exit 2), fails start with the next step, stops setup, and is recreated with a gap entry', async () => {
    const first = spawnWalaudit(['start', ...common]);
    await first.waitFor((status) => status.state === 'running');
    await query(server.url, `INSERT INTO payments VALUES (1, 10)`);
    await first.waitFor((status) => status.entriesStored >= 1);
    await first.stop();

    // walaudit is down: the audited database keeps writing, past what the slot may hold.
    for (let i = 0; i < 20 && (await walStatus()) !== 'lost'; i++) {
      await query(server.url, `INSERT INTO payments VALUES (${100 + i}, ${i}); SELECT pg_switch_wal(); INSERT INTO payments VALUES (${200 + i}, ${i}); SELECT pg_switch_wal(); CHECKPOINT`);
    }
    expect(await walStatus()).toBe('lost');

    const status = await runWalaudit(['status', ...common]);
    expect(status.code).toBe(2);
    expect(status.stdout).toContain(`slot ${slot} on`);
    expect(status.stdout).toContain('is LOST (wal_status lost');
    expect(status.stderr).toContain('PG_SLOT_LOST');
    expect(status.stderr).toContain('walaudit setup --recreate-lost-slot');
    const json = await runWalaudit(['status', '--json', ...common]);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ slotLost: { walStatus: 'lost' } });

    const start = await runWalaudit(['start', ...common], { WALAUDIT_ALERTS_WEBHOOK_URL: webhook.url });
    expect(start.code).toBe(2);
    expect(start.stderr).toContain('PG_SLOT_LOST');
    expect(start.stderr).toContain(`replication slot ${slot} was invalidated by Postgres`);
    expect(start.stderr).toContain('walaudit setup --recreate-lost-slot');
    // The alert channels hear it before the process ends; a second failed start does not page again.
    const [sent] = (await webhook.waitFor(1)) as { text: string; alert: { kind: string; slotLoss: { slot: string; walStatus: string } } }[];
    expect(sent!.alert).toMatchObject({ kind: 'slot-lost', slotLoss: { slot, walStatus: 'lost' } });
    expect(sent!.text).toContain(`slot lost: Postgres invalidated replication slot ${slot}`);
    expect((await runWalaudit(['start', ...common], { WALAUDIT_ALERTS_WEBHOOK_URL: webhook.url })).code).toBe(2);
    expect(webhook.bodies).toHaveLength(1);
    const alerts = await runWalaudit(['alerts', '--json', ...common]);
    expect(alerts.stdout).toContain('"kind":"slot-lost"');

    const setup = await runWalaudit(['setup', ...common]);
    expect(setup.code).toBe(2);
    expect(setup.stderr).toContain('PG_SLOT_LOST');
    expect(setup.stdout).not.toContain('setup done');
    expect(await walStatus()).toBe('lost');

    const [old] = await query<{ lsn: string }>(server.url, `SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1`, [slot]);
    const recreate = await runWalaudit(['setup', '--recreate-lost-slot', ...common]);
    expect(recreate.code, recreate.stderr).toBe(0);
    expect(recreate.stdout).toContain(`dropped lost replication slot ${slot}`);
    expect(recreate.stdout).toContain(`created logical replication slot ${slot} (pgoutput)`);
    expect(recreate.stdout).toContain(`recorded the gap in the audit trail: LSN ${old!.lsn} to `);
    expect(recreate.stdout).toContain('setup done');
    expect(await walStatus()).toBe('reserved');
    expect((await runWalaudit(['status', ...common])).code).toBe(0);

    const second = spawnWalaudit(['start', ...common]);
    try {
      await second.waitFor((s) => s.state === 'running' && s.entriesStored >= 1);
      const log = await runWalaudit(['log', '--op', 'action', '--json', ...common]);
      const actions = log.stdout.trim().split('\n').map((line) => JSON.parse(line) as { action?: Record<string, unknown>; tx: { commitTime: string } });
      const gap = actions.find((entry) => entry.action?.name === 'gap');
      expect(gap?.action).toMatchObject({ slot, fromLsn: old!.lsn, reason: expect.stringContaining('wal_status lost') });
      expect(gap?.action?.toLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
      // The trail stops at the last stored entry before the gap: the insert of payments 1.
      expect(gap?.action?.from).toMatch(/^\d{4}-\d\d-\d\dT/);
      const text = await runWalaudit(['log', '--op', 'action', ...common]);
      expect(text.stdout).toContain('ACTION gap');
    } finally {
      await second.stop();
    }
  }, 120_000);
});
