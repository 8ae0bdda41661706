import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, uniqueName, withUrl, type TestDatabase } from '../support/postgres.js';
import { CASCADE_DDL, fillCascadeData, runAndWaitForEntries, snapshotTables } from '../support/cascade-fixture.js';
import { startCascadePipeline, type CascadePipeline } from '../support/restore-harness.js';

/**
 * A restore writes with COPY, which Postgres refuses on a table whose row-level security applies
 * to the role, and which ignores rules: such tables are written with INSERT, and their policies
 * and rules hold.
 */
describe('restore into tables with row-level security or rules', () => {
  let db: TestDatabase;
  let admin: pg.Client;
  let run: CascadePipeline;

  beforeAll(async () => {
    db = await createTestDatabase('restore_rls');
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query(CASCADE_DDL);
    run = await startCascadePipeline(db.url);
    await fillCascadeData(admin);
  });

  afterAll(async () => {
    await run?.stop();
    await admin?.end();
    await db?.drop();
  });

  it('obeys the policies of the restore role, and restores the cascade exactly when they allow it', async () => {
    const role = uniqueName('restorer');
    await admin.query(`CREATE ROLE ${role} LOGIN; GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO ${role}`);
    await admin.query(`ALTER TABLE orders ENABLE ROW LEVEL SECURITY; CREATE POLICY no_ann ON orders TO ${role} USING (true) WITH CHECK (customer_id <> 1)`);
    const snapshot = await snapshotTables(admin);
    await runAndWaitForEntries(admin, run.store, 'DELETE FROM customers WHERE id = 1', 12);
    const [root] = await run.latest('customers', 'delete');
    for (let i = 0; (await run.links.linksCausedBy(root!.id)).length < 11; i++) {
      if (i > 300) throw new Error('cascade links not stored');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const restoreUrl = withUrl(db.url, { user: role });

    const refused = await run.restore({ kind: 'cascade', entryId: root!.id }, 'fail', { restoreUrl }).catch((e: unknown) => e);
    expect((refused as Error).message).toMatch(/row-level security/);
    expect((await admin.query('SELECT count(*)::int AS n FROM customers WHERE id = 1')).rows[0].n).toBe(0);

    await admin.query(`DROP POLICY no_ann ON orders; CREATE POLICY all_rows ON orders TO ${role} USING (true) WITH CHECK (true)`);
    const report = await run.restore({ kind: 'cascade', entryId: root!.id }, 'fail', { restoreUrl });
    expect(report).toMatchObject({ outcome: 'ok', restored: 11, updated: 1, conflicts: [] });
    expect(await snapshotTables(admin)).toEqual(snapshot);
  });

  it('applies the rules ON INSERT of a restored table', async () => {
    await admin.query(`CREATE TABLE order_log (order_id int); CREATE RULE log_orders AS ON INSERT TO orders DO ALSO INSERT INTO order_log VALUES (NEW.id)`);
    const snapshot = await snapshotTables(admin);
    const [previous] = await run.latest('customers', 'delete');
    await runAndWaitForEntries(admin, run.store, 'DELETE FROM customers WHERE id = 1', 12);
    const [root] = await run.latest('customers', 'delete');
    expect(root!.id).not.toBe(previous!.id);
    for (let i = 0; (await run.links.linksCausedBy(root!.id)).length < 11; i++) {
      if (i > 300) throw new Error('cascade links not stored');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const report = await run.restore({ kind: 'cascade', entryId: root!.id });
    expect(report).toMatchObject({ outcome: 'ok', restored: 11, updated: 1, conflicts: [] });
    expect(await snapshotTables(admin)).toEqual(snapshot);
    expect((await admin.query('SELECT order_id FROM order_log ORDER BY order_id')).rows).toEqual([{ order_id: 10 }, { order_id: 11 }]);
  });
});
