import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLsn } from '@walaudit/core';
import { findFreePort, runSetup } from '@walaudit/pg';
import { createTestDatabase, query, uniqueName, type TestDatabase } from '../support/postgres.js';
import { spawnWalaudit, type WalauditProcess } from '../support/walaudit-process.js';
import { tempDir } from '../support/temp-dir.js';

/** The slot must not hold WAL because nothing audited happens: heartbeats carry it forward. */
describe('the slot follows the server when nothing audited changes', () => {
  let db: TestDatabase;
  let walaudit: WalauditProcess;
  let port: number;
  const slot = uniqueName('follow');

  const confirmed = async () => {
    const [row] = await query<{ lsn: string }>(db.url, 'SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    return parseLsn(row!.lsn);
  };
  const serverLsn = async () => parseLsn((await query<{ lsn: string }>(db.url, 'SELECT pg_current_wal_lsn()::text AS lsn'))[0]!.lsn);
  const waitUntilConfirmed = async (target: bigint) => {
    const deadline = Date.now() + 20_000;
    while ((await confirmed()) < target) {
      if (Date.now() > deadline) throw new Error(`slot stayed at ${await confirmed()} below ${target}\n${walaudit.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase('follow');
    await query(db.url, 'CREATE TABLE audited (id int PRIMARY KEY); CREATE TABLE filtered (id int PRIMARY KEY); CREATE TABLE unpublished (id int PRIMARY KEY, v text)');
    await runSetup(db.url, { slot, publication: slot, tables: ['public.audited', 'public.filtered'], dryRun: false, log: () => {} });
    const dir = tempDir('follow');
    const config = join(dir, 'walaudit.yaml');
    writeFileSync(config, `pipeline:\n  heartbeatIntervalMs: 200\n  lagWarnBytes: 1\nrules:\n  - tables: [filtered]\n    audit: false\n  - tables: ["*"]\n`);
    port = await findFreePort();
    walaudit = spawnWalaudit(['start', '--config', config, '--source', db.url, '--slot', slot, '--publication', slot, '--data-dir', join(dir, 'data'), '--http-port', String(port)]);
    await walaudit.waitFor((status) => status.state === 'running');
  });

  afterAll(async () => {
    await walaudit?.kill('SIGTERM');
    await db?.drop();
  });

  it('moves past changes to tables outside the publication', async () => {
    await query(db.url, `INSERT INTO unpublished SELECT g, repeat('x', 200) FROM generate_series(1, 5000) AS g`);
    const target = await serverLsn();
    expect(await confirmed()).toBeLessThan(target);
    await waitUntilConfirmed(target);
  });

  it('moves past changes every rule filters out, storing none of them', async () => {
    await query(db.url, 'INSERT INTO filtered SELECT generate_series(1, 1000)');
    const target = await serverLsn();
    await waitUntilConfirmed(target);
    const status = (await walaudit.status())!;
    expect(status.entriesStored).toBe(0);
    expect(status.eventsTotal).toBe(1000);
  });

  it('reports the lag in /metrics and warns past the configured size', async () => {
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/^walaudit_replication_lag_bytes \d+$/m);
    expect(metrics).toMatch(/^walaudit_slot_retained_wal_bytes \d+$/m);
    const deadline = Date.now() + 10_000;
    while (!walaudit.stderr().includes('of WAL on the server') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(walaudit.stderr()).toMatch(/slot \w+ holds .* of WAL on the server \(warning above 1 B\)/);
  });
});
