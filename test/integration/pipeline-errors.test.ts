import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WalauditError, parseLsn } from '@walaudit/core';
import { findFreePort, PgReplicationSource, runSetup } from '@walaudit/pg';
import { createTestDatabase, query, uniqueName, withUrl, type TestDatabase } from '../support/postgres.js';
import { embeddedStore, startPipeline, storeWithOutage } from '../support/pipeline-harness.js';
import { runWalaudit, spawnWalaudit } from '../support/walaudit-process.js';
import { tempDir } from '../support/temp-dir.js';

async function confirmedLsn(url: string, slot: string): Promise<bigint> {
  const [row] = await query<{ lsn: string }>(url, 'SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [slot]);
  return parseLsn(row!.lsn);
}

describe('bad input gets a clear error and loses nothing', () => {
  let db: TestDatabase;
  const slot = uniqueName('errors');

  beforeAll(async () => {
    db = await createTestDatabase('errors');
    await query(db.url, 'CREATE TABLE items (id int PRIMARY KEY, name text)');
    await runSetup(db.url, { slot, publication: slot, tables: [], dryRun: false, log: () => {} });
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('refuses a slot another process holds, naming the holder', async () => {
    const holder = new PgReplicationSource({ url: db.url, slot, publication: slot });
    const holding = holder.run(() => {});
    await new Promise((resolve) => setTimeout(resolve, 500));
    const second = new PgReplicationSource({ url: db.url, slot, publication: slot });
    const error = await second.run(() => {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WalauditError);
    expect((error as WalauditError).code).toBe('PG_SLOT_IN_USE');
    expect((error as WalauditError).message).toMatch(/pid \d+|PID \d+/);
    await holder.stop();
    await holding;
  });

  it('refuses a role without REPLICATION with the ALTER ROLE to run', async () => {
    const role = uniqueName('norepl');
    await query(db.url, `CREATE ROLE ${role} LOGIN`);
    const source = new PgReplicationSource({ url: withUrl(db.url, { user: role }), slot, publication: slot });
    const error = await source.run(() => {}).catch((e: unknown) => e);
    expect((error as WalauditError).code).toBe('PG_NO_REPLICATION');
    expect((error as WalauditError).message).toContain('REPLICATION');
  });

  it('holds the slot while the store fails, and stores everything once it is back', async () => {
    const real = await embeddedStore(uniqueName('outage'));
    const outage = storeWithOutage(real);
    const pipeline = await startPipeline(db.url, outage.store, { source: { slot, publication: slot } });
    const before = await confirmedLsn(db.url, slot);
    await query(db.url, `INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 500) AS g`);
    await query(db.url, `UPDATE items SET name = name || '!' WHERE id <= 10`);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(outage.failedInserts).toBeGreaterThan(2);
    expect(await confirmedLsn(db.url, slot)).toBe(before);
    expect(await real.countEntries()).toBe(0);

    outage.down = false;
    await pipeline.waitForEntries(510);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await real.countEntries()).toBe(510);
    expect(await confirmedLsn(db.url, slot)).toBeGreaterThan(before);
    await pipeline.stop();
  });

  it('start: an unreachable ClickHouse server is retried with a clear message, and the slot does not move', async () => {
    const before = await confirmedLsn(db.url, slot);
    await query(db.url, `INSERT INTO items VALUES (1000, 'while the store is down')`);
    const closedPort = await findFreePort();
    const walaudit = spawnWalaudit(['start', '--source', db.url, '--slot', slot, '--publication', slot, '--clickhouse-url', `http://127.0.0.1:${closedPort}`, '--http-port', String(await findFreePort())]);
    const deadline = Date.now() + 20_000;
    while (!walaudit.stderr().includes('retrying') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(walaudit.stderr()).toContain('STORE_UNREACHABLE');
    expect(walaudit.stderr()).toContain(`127.0.0.1:${closedPort}`);
    expect(await confirmedLsn(db.url, slot)).toBe(before);
    await walaudit.kill('SIGKILL');
  });

  it('start: a missing slot stops with exit code 2 and says to run setup', async () => {
    const result = await runWalaudit(['start', '--source', db.url, '--slot', 'no_such_slot', '--data-dir', tempDir('data'), '--http-port', String(await findFreePort())]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('PG_SLOT_MISSING');
    expect(result.stderr).toContain('walaudit setup');
  });

  it('start: unreachable Postgres is reported in status and retried', async () => {
    const port = await findFreePort();
    const walaudit = spawnWalaudit(['start', '--source', `postgres://postgres@127.0.0.1:${await findFreePort()}/postgres`, '--data-dir', tempDir('data'), '--http-port', String(port)]);
    try {
      const status = await walaudit.waitFor((s) => s.state === 'retrying', 30_000);
      expect(status.state).toBe('retrying');
      expect(status.lastError?.code).toBe('PG_UNREACHABLE');
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      expect(health.status).toBe(503);
    } finally {
      await walaudit.kill('SIGTERM');
    }
  });

  it('a bad config file names the bad key and exits 2', async () => {
    const dir = tempDir('config');
    const file = join(dir, 'walaudit.yaml');
    writeFileSync(file, 'pipeline:\n  batchSize: -5\nrules:\n  - tables: [orders]\n    mask:\n      - { column: email, mode: scramble }\n');
    const result = await runWalaudit(['status', '--config', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('CONFIG_INVALID');
    expect(result.stderr).toContain('"pipeline.batchSize"');
    expect(result.stderr).toContain('"rules.0.mask.0.mode"');
    writeFileSync(file, 'source: [unclosed');
    const yaml = await runWalaudit(['status', '--config', file]);
    expect(yaml.code).toBe(2);
    expect(yaml.stderr).toContain('not valid YAML');
  });

  it('refuses to write a second database into a store that holds another one\'s trail', async () => {
    const store = await embeddedStore(uniqueName('owned'));
    const first = await startPipeline(db.url, store, { source: { slot, publication: slot } });
    await query(db.url, "INSERT INTO items VALUES (901, 'first source')");
    await first.waitForEntries(1);
    await first.stop();
    expect(await store.sourceIdentity()).toMatchObject({ database: db.name });

    const other = await createTestDatabase('other-source');
    try {
      const otherSlot = uniqueName('other');
      await runSetup(other.url, { slot: otherSlot, publication: otherSlot, tables: [], dryRun: false, log: () => {} });
      const error = await startPipeline(other.url, store, { source: { slot: otherSlot, publication: otherSlot } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WalauditError);
      expect((error as WalauditError).code).toBe('STORE_OTHER_SOURCE');
      expect((error as WalauditError).message).toContain(`database "${db.name}"`);
      expect((error as WalauditError).message).toContain(`database "${other.name}"`);
      // The same source again is its owner.
      const again = await startPipeline(db.url, store, { source: { slot, publication: slot } });
      await again.stop();
      await query(other.url, `SELECT pg_drop_replication_slot('${otherSlot}')`);
    } finally {
      await other.drop();
      await store.close();
    }
  });
});
