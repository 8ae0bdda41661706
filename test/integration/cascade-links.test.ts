import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLsn, type AuditEntry, type CascadeLink } from '@walaudit/core';
import { ClickHouseCascadeLinks, type ClickHouseStore } from '@walaudit/clickhouse';
import { loadForeignKeys, runSetup, withClient } from '@walaudit/pg';
import { createCorrelator, type Correlator } from '@walaudit/correlator';
import { createTestDatabase, uniqueName, type TestDatabase } from '../support/postgres.js';
import { embeddedStore, startPipeline, type RunningPipeline } from '../support/pipeline-harness.js';
import { CASCADE_DDL, CUSTOMER_1_CASCADE, fillCascadeData, rowLabel, runAndWaitForEntries } from '../support/cascade-fixture.js';

/** Cascade links end to end: real foreign keys, a real cascade in Postgres, links read back from ClickHouse. */
describe('cascade links', () => {
  let db: TestDatabase;
  let admin: pg.Client;
  let store: ClickHouseStore;
  let links: ClickHouseCascadeLinks;
  let correlator: Correlator;
  let pipeline: RunningPipeline;
  const slot = uniqueName('slot');
  const publication = uniqueName('pub');

  beforeAll(async () => {
    db = await createTestDatabase('cascade');
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query(CASCADE_DDL);
    await runSetup(db.url, { slot, publication, tables: [], dryRun: false, log: () => {} });
    store = await embeddedStore(uniqueName('cascade'));
    links = new ClickHouseCascadeLinks(store);
    correlator = createCorrelator({
      links,
      entries: links,
      loadForeignKeys: () => withClient(db.url, 'walaudit-test', (client) => loadForeignKeys(client)),
      refreshIntervalMs: 60_000,
    });
    await correlator.start();
    pipeline = await startPipeline(db.url, store, { source: { slot, publication }, pipeline: { batchSize: 3 } }, { observers: [(stored) => correlator.observe(stored)] });
  });

  afterAll(async () => {
    await pipeline?.stop();
    await store?.close();
    await admin?.end();
    await db?.drop();
  });

  it('reads composite, self-referencing and SET NULL keys from the catalog', () => {
    const byName = new Map(correlator.foreignKeys.map((fk) => [fk.name, fk]));
    expect(byName.get('shipments_bin_fk')).toMatchObject({ table: 'shipments', columns: ['wh', 'bin'], refTable: 'bins', refColumns: ['warehouse', 'code'], onDelete: 'cascade' });
    expect(byName.get('notes_order_id_fkey')).toMatchObject({ onDelete: 'set-null', refTable: 'orders' });
    expect(byName.get('folders_parent_id_fkey')).toMatchObject({ table: 'folders', refTable: 'folders', columns: ['parent_id'], refColumns: ['id'] });
  });

  it('links every row a root delete removed to its parent and to the root, across batches', async () => {
    await fillCascadeData(admin);
    // 1 customer + 10 cascaded deletes + 1 SET NULL update
    await runAndWaitForEntries(admin, store, 'DELETE FROM customers WHERE id = 1', 12);
    const [root] = await store.queryLog({ table: 'customers', op: 'delete', limit: 1 });
    const caused = await waitForLinks(links, root!.id, 11);
    expect(caused.filter((l) => l.kind === 'cascade').map((l) => rowLabel(l.table, l.key)).sort()).toEqual([...CUSTOMER_1_CASCADE.cascade].sort());
    expect(caused.filter((l) => l.kind === 'set-null').map((l) => rowLabel(l.table, l.key))).toEqual(CUSTOMER_1_CASCADE.setNull);
    for (const link of caused) {
      expect(link.rootEntryId).toBe(root!.id);
      expect(link.xid).toBe(root!.tx.xid);
    }

    const entries = new Map((await links.entriesByIds([root!.id, ...caused.map((l) => l.entryId), ...caused.map((l) => l.parentEntryId)])).map((e) => [e.id, e]));
    const parentOf = (label: string) => {
      const link = caused.find((l) => rowLabel(l.table, l.key) === label)!;
      const parent = entries.get(link.parentEntryId) as AuditEntry;
      return { parent: rowLabel(parent.table, parent.pk), depth: link.depth, viaKey: link.parentKey };
    };
    expect(parentOf('order_lines {"line":"2","order_id":"10"}')).toEqual({ parent: 'orders {"id":"10"}', depth: 2, viaKey: { id: '10' } });
    expect(parentOf('notes {"id":"5"}')).toEqual({ parent: 'orders {"id":"10"}', depth: 2, viaKey: { id: '10' } });
    expect(parentOf('folders {"id":"3"}')).toEqual({ parent: 'folders {"id":"2"}', depth: 3, viaKey: { id: '2' } });
    expect(parentOf('shipments {"id":"1"}')).toEqual({ parent: 'bins {"code":"1","warehouse":"A"}', depth: 2, viaKey: { warehouse: 'A', code: '1' } });

    // From the middle of the chain: only what order 10 took with it.
    const order10 = caused.find((l) => rowLabel(l.table, l.key) === 'orders {"id":"10"}')!;
    const under = await links.linksCausedBy(order10.entryId);
    expect(under.map((l) => rowLabel(l.table, l.key)).sort()).toEqual(['notes {"id":"5"}', 'order_lines {"line":"1","order_id":"10"}', 'order_lines {"line":"2","order_id":"10"}']);
  });

  it('leaves deletes without a foreign-key path unlinked in their transaction', async () => {
    await runAndWaitForEntries(admin, store, 'BEGIN; DELETE FROM notes WHERE id = 6; DELETE FROM shipments WHERE id = 2; COMMIT', 2);
    const stored = await store.queryLog({ op: 'delete', limit: 2 });
    expect(stored[0]!.tx.xid).toBe(stored[1]!.tx.xid);
    for (const entry of stored) {
      expect(await links.linkOf(entry.id)).toBeNull();
      expect(await links.linksCausedBy(entry.id)).toEqual([]);
    }
  });

  it('links again, after a restart, what was stored but not confirmed', async () => {
    const [root] = await store.queryLog({ table: 'customers', op: 'delete', limit: 1 });
    await store.command(`TRUNCATE TABLE ${store.table('cascade_links')}`);
    const fresh = createCorrelator({ links, entries: links, loadForeignKeys: () => withClient(db.url, 'walaudit-test', (c) => loadForeignKeys(c)), refreshIntervalMs: 60_000 });
    await fresh.start();
    expect(await fresh.recover(0n)).toBe(11);
    expect(await links.linksCausedBy(root!.id)).toHaveLength(11);
  });

  it('links again the entries of one partition only when asked for a partition (distributed mode)', async () => {
    const [root] = await store.queryLog({ table: 'customers', op: 'delete', limit: 1 });
    await store.command(`TRUNCATE TABLE ${store.table('cascade_links')}`);
    const fresh = createCorrelator({ links, entries: links, loadForeignKeys: () => withClient(db.url, 'walaudit-test', (c) => loadForeignKeys(c)), refreshIntervalMs: 60_000 });
    await fresh.start();
    // Standalone entries came through partition 0.
    expect(await fresh.recover(0n, { partition: 1 })).toBe(0);
    expect(await links.linksCausedBy(root!.id)).toHaveLength(0);
    expect(await fresh.recover(parseLsn(root!.tx.lsn), { partition: 0 })).toBe(11);
    expect(await links.linksCausedBy(root!.id)).toHaveLength(11);
  });
});

async function waitForLinks(links: ClickHouseCascadeLinks, rootId: string, count: number): Promise<CascadeLink[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const found = await links.linksCausedBy(rootId);
    if (found.length >= count || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
