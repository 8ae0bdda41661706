import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '@walaudit/core';
import { uniqueName, withUrl, type TestDatabase } from '../support/postgres.js';
import { runAndWaitForEntries, snapshotTables } from '../support/cascade-fixture.js';
import { openCascadeDatabase, type CascadePipeline } from '../support/restore-harness.js';

/** Restores against the real Postgres, from entries and links the real pipeline stored. */
describe('restore', () => {
  let db: TestDatabase;
  let admin: pg.Client;
  let run: CascadePipeline;

  let close: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ db, admin, run, close } = await openCascadeDatabase('restore'));
  });

  afterAll(async () => {
    await close?.();
  });

  const deleteAndWait = (sql: string, entries: number) => runAndWaitForEntries(admin, run.store, sql, entries);

  const waitForLinks = (rootId: string, count: number) => run.waitForLinks(rootId, count);

  it('puts a whole cascade back exactly: three levels, SET NULL, self-reference, composite key, every type', async () => {
    const snapshot = await snapshotTables(admin);
    await deleteAndWait('DELETE FROM customers WHERE id = 1', 12);
    const [root] = await run.latest('customers', 'delete');
    await waitForLinks(root!.id, 11);
    expect((await snapshotTables(admin)).orders).toHaveLength(1);

    const dry = await run.restore({ kind: 'cascade', entryId: root!.id }, 'fail', { dryRun: true });
    expect(dry).toMatchObject({ outcome: 'ok', dryRun: true, restored: 11, updated: 1, conflicts: [] });
    // Parents before children: the customer first, the SET NULL undo last.
    expect(dry.sql![2]).toBe(`INSERT INTO "public"."customers" ("id", "name") VALUES ('1'::integer, 'Ann'::text);`);
    expect(dry.sql!.at(-2)).toMatch(/^UPDATE "public"."notes" SET "order_id" = '10'::integer WHERE "id" = '5'::integer AND "order_id" IS NOT DISTINCT FROM NULL;/);
    expect(dry.sql!.findIndex((l) => l.includes('"folders"') && l.includes("'3'::integer"))).toBeGreaterThan(dry.sql!.findIndex((l) => l.includes('"folders"') && l.includes("'2'::integer, NULL")));
    expect((await snapshotTables(admin)).orders).toHaveLength(1);

    const before = await run.store.countEntries();
    const report = await run.restore({ kind: 'cascade', entryId: root!.id });
    expect(report).toMatchObject({ outcome: 'ok', restored: 11, updated: 1, alreadyPresent: 0, skipped: [], conflicts: [] });
    expect(report.restoredByTable).toEqual({ 'public.customers': 1, 'public.orders': 2, 'public.order_lines': 3, 'public.folders': 3, 'public.bins': 1, 'public.shipments': 1 });
    expect(await snapshotTables(admin)).toEqual(snapshot);

    // The restore's own changes are audited, with who asked and what they restore.
    await run.waitFor(before, 12);
    const [restored] = await run.latest('customers', 'insert');
    expect(restored!.actor.app).toMatchObject({ user: 'walaudit-restore', requestedBy: 'alice@example.com', restoredEntryCount: 12 });
    expect(restored!.actor.app!.restoredEntries).toContain(root!.id);
  });

  it('restores once when the same request comes twice', async () => {
    const [root] = await run.latest('customers', 'delete');
    const again = await run.restore({ kind: 'cascade', entryId: root!.id });
    expect(again).toMatchObject({ outcome: 'ok', restored: 0, updated: 0, alreadyPresent: 11, conflicts: [] });
  });

  it('reads a cascade that fills its range of the transaction by that range alone', async () => {
    const snapshot = await snapshotTables(admin);
    await deleteAndWait('DELETE FROM folders WHERE id = 1', 3); // folder 1, its sub-folder 2 and that one's 3: nothing else in between
    const [root] = (await run.latest('folders', 'delete', 3)).filter((e) => e.pk!.id === '1');
    await waitForLinks(root!.id, 2);
    expect(await run.restore({ kind: 'cascade', entryId: root!.id })).toMatchObject({ outcome: 'ok', restored: 3, updated: 0, conflicts: [] });
    expect(await snapshotTables(admin)).toEqual(snapshot);
  });

  it('reads a cascade whose transaction changed the shape of a table with a shape per row', async () => {
    await admin.query('ALTER TABLE folders ADD COLUMN color text');
    const snapshot = await snapshotTables(admin);
    // The new shape of folders reaches the reader in the delete's transaction: a schema entry there.
    await deleteAndWait('DELETE FROM customers WHERE id = 1', 13);
    const [root] = await run.latest('customers', 'delete');
    await waitForLinks(root!.id, 11);
    const schemaEntries = await run.store.select<{ n: number }>(
      `SELECT count() AS n FROM ${run.store.table('audit_log')} WHERE xid = {xid:UInt64} AND op = 'schema'`,
      { xid: String(root!.tx.xid) },
    );
    expect(Number(schemaEntries[0]!.n)).toBe(1);
    expect(await run.restore({ kind: 'cascade', entryId: root!.id })).toMatchObject({ outcome: 'ok', restored: 11, updated: 1, conflicts: [] });
    expect(await snapshotTables(admin)).toEqual(snapshot);
    await admin.query('ALTER TABLE folders DROP COLUMN color');
  });

  it('restores one row, and every row of a transaction', async () => {
    const snapshot = await snapshotTables(admin);
    await deleteAndWait(`BEGIN; DELETE FROM shipments WHERE id = 2; DELETE FROM notes WHERE id = 6; COMMIT`, 2);
    const [note] = await run.latest('notes', 'delete');
    expect(await run.restore({ kind: 'entry', entryId: note!.id })).toMatchObject({ outcome: 'ok', restored: 1 });
    const tx = await run.restore({ kind: 'tx', xid: note!.tx.xid });
    expect(tx).toMatchObject({ outcome: 'ok', restored: 1, alreadyPresent: 1 });
    expect(await snapshotTables(admin)).toEqual(snapshot);
  });

  it('reverts an update, unless the row changed again', async () => {
    await deleteAndWait(`UPDATE customers SET name = 'Bobby' WHERE id = 2`, 1);
    const [update] = await run.latest('customers', 'update');
    expect(await run.restore({ kind: 'revert', entryId: update!.id })).toMatchObject({ outcome: 'ok', updated: 1 });
    expect((await admin.query('SELECT name FROM customers WHERE id = 2')).rows[0].name).toBe('Bob');
    await admin.query(`UPDATE customers SET name = 'Robert' WHERE id = 2`);
    const refused = await run.restore({ kind: 'revert', entryId: update!.id }, 'skip');
    expect(refused.conflicts).toMatchObject([{ kind: 'changed-since', resolution: 'skipped' }]);
    expect((await admin.query('SELECT name FROM customers WHERE id = 2')).rows[0].name).toBe('Robert');
    await admin.query(`UPDATE customers SET name = 'Bob' WHERE id = 2`);
  });

  describe('conflicts', () => {
    let order20: AuditEntry;

    beforeAll(async () => {
      await deleteAndWait('DELETE FROM orders WHERE id = 20', 3); // order 20, its line, note 7 set to NULL
      order20 = (await run.latest('orders', 'delete'))[0]!;
      await waitForLinks(order20.id, 2);
      await admin.query(`INSERT INTO orders (id, customer_id, total) VALUES (20, 2, 1.00)`);
    });

    it('key exists again: fail restores nothing, skip skips the row, new-key gives it a new key its children follow', async () => {
      const fail = await run.restore({ kind: 'cascade', entryId: order20.id });
      expect(fail).toMatchObject({ outcome: 'failed', restored: 0, error: { code: 'RESTORE_CONFLICT' } });
      // Note 7 was nulled by the same delete: undoing that needs order 20 back, so it conflicts too.
      expect(fail.conflicts).toMatchObject([
        { kind: 'key-exists', resolution: 'fail', table: 'orders', key: { id: '20' } },
        { kind: 'missing-parent', resolution: 'fail', table: 'notes', key: { id: '7' } },
      ]);
      expect((await admin.query('SELECT count(*)::int AS n FROM order_lines WHERE order_id = 20')).rows[0].n).toBe(0);

      const skip = await run.restore({ kind: 'entry', entryId: order20.id }, 'skip');
      expect(skip).toMatchObject({ outcome: 'ok', restored: 0, skipped: [{ entryId: order20.id, table: 'public.orders' }] });
      expect(skip.skipped[0]!.reason).toContain('exists again');

      const rekey = await run.restore({ kind: 'cascade', entryId: order20.id }, 'new-key');
      expect(rekey).toMatchObject({ outcome: 'ok', restored: 2, updated: 1 });
      const newId = rekey.newKeys[0]!.newKey.id;
      expect(rekey.newKeys).toEqual([{ entryId: order20.id, table: 'public.orders', oldKey: { id: '20' }, newKey: { id: newId } }]);
      expect(Number(newId)).toBeGreaterThanOrEqual(1000);
      expect((await admin.query('SELECT order_id FROM order_lines WHERE line = 1 AND order_id = $1', [newId])).rows).toHaveLength(1);
      expect((await admin.query('SELECT total::text FROM orders WHERE id = $1', [newId])).rows[0].total).toBe('99.00');
    });

    it('a parent gone for good: a NOT NULL foreign key skips the row (fails under fail)', async () => {
      await deleteAndWait(`BEGIN; DELETE FROM order_lines WHERE order_id = 11; DELETE FROM orders WHERE id = 11; COMMIT`, 2);
      const [line] = await run.latest('order_lines', 'delete');
      const tx = line!.tx.xid;
      const [orderGone] = (await run.latest('orders', 'delete')).filter((e) => e.tx.xid === tx);
      expect(orderGone).toBeDefined();
      const lineReport = await run.restore({ kind: 'entry', entryId: line!.id }, 'skip');
      expect(lineReport).toMatchObject({ outcome: 'ok', restored: 0 });
      expect(lineReport.skipped[0]!.reason).toMatch(/order_lines_order_id_fkey: no row of public.orders has id=11/);
      const failed = await run.restore({ kind: 'entry', entryId: line!.id });
      expect(failed).toMatchObject({ outcome: 'failed', conflicts: [{ kind: 'missing-parent', resolution: 'fail' }] });
    });

    it('a nullable foreign key to a gone parent is set to NULL and reported', async () => {
      await admin.query(`INSERT INTO orders (id, customer_id) VALUES (30, 2); INSERT INTO notes VALUES (8, 30, 'to be orphaned')`);
      await deleteAndWait(`BEGIN; DELETE FROM notes WHERE id = 8; DELETE FROM orders WHERE id = 30; COMMIT`, 2);
      const [note] = (await run.latest('notes', 'delete', 5)).filter((e) => e.pk!.id === '8');
      const report = await run.restore({ kind: 'entry', entryId: note!.id }, 'skip');
      expect(report).toMatchObject({ outcome: 'ok', restored: 1, conflicts: [{ kind: 'missing-parent', resolution: 'set-null', column: 'order_id' }] });
      expect((await admin.query('SELECT order_id FROM notes WHERE id = 8')).rows[0].order_id).toBeNull();
    });

    it('a column dropped or retyped since: left out and reported, or the restore fails under fail', async () => {
      await deleteAndWait(`DELETE FROM shipments WHERE id = 2`, 1);
      const [shipment] = await run.latest('shipments', 'delete');
      await admin.query(`ALTER TABLE shipments DROP COLUMN note`);
      const failed = await run.restore({ kind: 'entry', entryId: shipment!.id });
      expect(failed).toMatchObject({ outcome: 'failed', conflicts: [{ kind: 'column-missing', column: 'note', resolution: 'fail' }] });
      const skip = await run.restore({ kind: 'entry', entryId: shipment!.id }, 'skip');
      expect(skip).toMatchObject({ outcome: 'ok', restored: 1, conflicts: [{ kind: 'column-missing', column: 'note', resolution: 'column-left-out' }] });
      expect((await admin.query('SELECT wh, bin FROM shipments WHERE id = 2')).rows).toEqual([{ wh: 'A', bin: 2 }]);

      await deleteAndWait(`DELETE FROM notes WHERE id = 8`, 1);
      const [note] = await run.latest('notes', 'delete');
      await admin.query(`ALTER TABLE notes ALTER COLUMN body TYPE varchar(40)`);
      const retyped = await run.restore({ kind: 'entry', entryId: note!.id }, 'skip');
      expect(retyped).toMatchObject({ outcome: 'ok', restored: 1, conflicts: [{ kind: 'type-changed', column: 'body', resolution: 'column-left-out' }] });
      expect(retyped.conflicts[0]!.detail).toBe('column body was text, is character varying(40) now: left out');
      expect((await admin.query('SELECT body FROM notes WHERE id = 8')).rows).toEqual([{ body: null }]);
    });
  });

  it('refuses clearly when the restore role lacks INSERT, and writes nothing', async () => {
    const role = uniqueName('restorer');
    await admin.query(`CREATE ROLE ${role} LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}; GRANT INSERT ON customers TO ${role}`);
    await deleteAndWait('DELETE FROM customers WHERE id = 2', 1);
    const [root] = await run.latest('customers', 'delete');
    await waitForLinks(root!.id, 1);
    const error = await run.restore({ kind: 'cascade', entryId: root!.id }, 'skip', { restoreUrl: withUrl(db.url, { user: role }) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PG_PRIVILEGE' });
    expect((error as Error).message).toMatch(new RegExp(`the restore role ${role} lacks INSERT ON public\\.(orders|folders|bins)`));
    expect((error as Error).message).toContain(`GRANT INSERT ON public.`);
    expect((await admin.query('SELECT count(*)::int AS n FROM customers WHERE id = 2')).rows[0].n).toBe(0);
  });
});
