import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort, startLocalPostgres, type LocalPostgres } from '@walaudit/pg';
import { query, uniqueName } from '../support/postgres.js';
import { runWalaudit, spawnWalaudit, type WalauditProcess } from '../support/walaudit-process.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * A slot about to be lost (wal_status unreserved: more WAL held than max_slot_wal_keep_size allows,
 * removed at the next checkpoint) is a warning in status, /metrics, /health and the start log; a
 * partition added after setup is named by status and counted by /metrics and /health. Its own
 * server: max_slot_wal_keep_size is cluster-wide and would threaten every other test's slot.
 */
describe('a slot about to be lost, and partitions needing setup', () => {
  let server: LocalPostgres;
  let common: string[];
  let port: number;
  let start: WalauditProcess | undefined;
  const slot = uniqueName('risk');

  beforeAll(async () => {
    server = await startLocalPostgres({ durable: false });
    // Four 16 MB segments: a slot behind by more than that is unreserved until a checkpoint removes them.
    await query(server.url, `ALTER SYSTEM SET max_slot_wal_keep_size = '64MB'`);
    await query(server.url, `SELECT pg_reload_conf()`);
    await query(server.url, `
      CREATE TABLE readings (id bigint, region text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
      CREATE TABLE readings_eu PARTITION OF readings FOR VALUES IN ('eu');`);
    port = await findFreePort();
    common = ['--source', server.url, '--data-dir', tempDir('slot-risk'), '--http-port', String(port), '--slot', slot, '--publication', slot];
    const setup = await runWalaudit(['setup', ...common]);
    expect(setup.code, setup.stderr).toBe(0);
  });

  afterAll(async () => {
    if (start && start.child.exitCode === null) await start.kill('SIGKILL');
    await server?.stop();
  });

  async function walStatus(): Promise<string | null> {
    const [row] = await query<{ wal_status: string | null }>(server.url, `SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1`, [slot]);
    return row?.wal_status ?? null;
  }

  async function metric(name: string): Promise<number | null> {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line ? Number(line.split(' ')[1]) : null;
  }

  it('status lists a partition added after setup (exit 0)', async () => {
    await query(server.url, `CREATE TABLE readings_us PARTITION OF readings FOR VALUES IN ('us')`);
    const status = await runWalaudit(['status', ...common]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('partitions needing setup: public.readings_us (added after `walaudit setup`: run it again)');
    const json = await runWalaudit(['status', '--json', ...common]);
    expect(JSON.parse(json.stdout)).toMatchObject({ unpreparedPartitions: ['public.readings_us'], slotAtRisk: null });
  });

  it('warns in status, the start log, /metrics, /api/status and /health while the slot is unreserved', async () => {
    // walaudit is down and the database writes on: more WAL than the slot may hold, no checkpoint yet.
    for (let i = 0; i < 8 && (await walStatus()) !== 'unreserved'; i++) {
      await query(server.url, `INSERT INTO readings VALUES (${i}, 'eu'); SELECT pg_switch_wal()`);
    }
    expect(await walStatus()).toBe('unreserved');

    const status = await runWalaudit(['status', ...common]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`WARNING replication slot ${slot} is about to be lost (wal_status unreserved`);
    expect(status.stdout).toContain('raise max_slot_wal_keep_size');
    const json = JSON.parse((await runWalaudit(['status', '--json', ...common])).stdout) as { slotAtRisk: { walStatus: string; safeWalBytes: number | null } };
    expect(json.slotAtRisk).toMatchObject({ walStatus: 'unreserved' });
    expect(typeof json.slotAtRisk.safeWalBytes).toBe('number');

    start = spawnWalaudit(['start', ...common]);
    // Read before the first change is stored: the gauge is set before streaming starts.
    const deadline = Date.now() + 30_000;
    let unreserved: number | null = null;
    while (unreserved !== 1 && Date.now() < deadline) {
      unreserved = await metric('walaudit_slot_unreserved').catch(() => null);
      if (unreserved !== 1) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(unreserved, start.stderr()).toBe(1);
    await start.waitFor((s) => s.state === 'running');
    expect(start.stderr() + start.stdout()).toContain(`replication slot ${slot} is about to be lost (wal_status unreserved`);
    expect(start.stderr() + start.stdout()).toContain('max_slot_wal_keep_size');
    expect(start.stderr() + start.stdout()).toContain('partition public.readings_us was added after `walaudit setup`');
    expect(await metric('walaudit_partitions_needing_setup')).toBe(1);
    const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ partitionsNeedingSetup: 1 });

    // Caught up, the slot is reserved again and the warning goes.
    await start.waitFor((s) => s.entriesStored >= 1);
    await start.waitFor((s) => !s.slotAtRisk, 30_000);
    expect(await walStatus()).not.toBe('unreserved');
    expect(await metric('walaudit_slot_unreserved')).toBe(0);
    const running = await runWalaudit(['status', ...common]);
    expect(running.stdout).not.toContain('WARNING');
    expect(running.stdout).toContain('partitions needing setup: public.readings_us');
    await start.stop();
  });
});
