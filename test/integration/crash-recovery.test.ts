import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLsn, verifyAuditLog } from '@walaudit/core';
import { createClickHouseStore } from '@walaudit/clickhouse';
import { findFreePort, runSetup } from '@walaudit/pg';
import { connect, createTestDatabase, query, uniqueName, type TestDatabase } from '../support/postgres.js';
import { spawnWalaudit, runWalaudit } from '../support/walaudit-process.js';
import { tempDir } from '../support/temp-dir.js';
import { createEventsTable } from '../support/events-fixture.js';

const ROWS = 100_000;
const ROWS_PER_TX = 100;

describe('walaudit start killed with SIGKILL mid-stream', () => {
  let db: TestDatabase;
  const slot = uniqueName('crash');
  const dataDir = tempDir('crash');

  beforeAll(async () => {
    db = await createTestDatabase('crash');
    await createEventsTable(db.url);
    await runSetup(db.url, { slot, publication: slot, tables: [], dryRun: false, log: () => {} });
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('restarts from the slot and ends with every change stored exactly once and an intact chain', async () => {
    const port = await findFreePort();
    const args = ['start', '--source', db.url, '--data-dir', dataDir, '--http-port', String(port), '--slot', slot, '--publication', slot];
    const first = spawnWalaudit(args);
    await first.waitFor((status) => status.state === 'running');

    const loader = await connect(db.url);
    const loading = loader.query('CALL load_events($1, $2)', [ROWS, ROWS_PER_TX]);
    await first.waitFor((status) => status.entriesStored >= 10_000, 120_000);
    expect(await first.kill('SIGKILL')).toBeNull();
    await loading;
    await loader.end();
    const { lsn: endLsn } = (await query<{ lsn: string }>(db.url, 'SELECT pg_current_wal_lsn()::text AS lsn'))[0]!;

    const second = spawnWalaudit(args);
    await second.waitFor((status) => status.confirmedLsn !== null && parseLsn(status.confirmedLsn) >= parseLsn(endLsn), 180_000);
    await second.stop('SIGTERM');
    expect(second.stderr()).toContain('stopped cleanly');

    const store = createClickHouseStore({ dataDir, database: 'walaudit' });
    try {
      expect(await store.countEntries()).toBe(ROWS);
      const report = await verifyAuditLog(store);
      expect(report.problem).toBeNull();
      expect(report.entriesChecked).toBe(ROWS);
      const inserted = await store.queryLog({ table: 'events', op: 'insert', limit: 100_000 });
      expect(new Set(inserted.map((entry) => entry.pk?.id)).size).toBe(ROWS);
    } finally {
      await store.close();
    }

    // The CLI reads the same store directly when no walaudit runs.
    const verify = await runWalaudit(['verify', '--data-dir', dataDir, '--http-port', String(port)]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain(`${ROWS} entries verified`);

    // An edit made behind walaudit's back: verify exits 1 and names the entry.
    const tampering = createClickHouseStore({ dataDir, database: 'walaudit' });
    const [victim] = await tampering.queryLog({ table: 'events', op: 'insert', limit: 1 });
    await tampering.command(
      `ALTER TABLE ${tampering.table('audit_log')} UPDATE event = replace(event, '"payload ', '"PAYLOAD ') WHERE id = '${victim!.id}' SETTINGS mutations_sync = 1`,
    );
    await tampering.close();
    const broken = await runWalaudit(['verify', '--data-dir', dataDir, '--http-port', String(port)]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain(`audit log BROKEN at entry ${victim!.id}`);
    expect(broken.stdout).toContain('altered');
  });
});
