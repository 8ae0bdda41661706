import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName, withUrl, type TestDatabase } from '../support/postgres.js';
import { runAndWaitForEntries, snapshotTables } from '../support/cascade-fixture.js';
import { openCascadeDatabase, type CascadePipeline } from '../support/restore-harness.js';

/**
 * A restore writes with COPY, which Postgres refuses on a table whose row-level security applies
 * to the role, and which ignores rules: such tables are written with INSERT, and their policies
 * and rules hold.
 */
describe('restore into tables with row-level security or rules', () => {
  let db: TestDatabase;
  let admin: pg.Client;
  let run: CascadePipeline;

  let close: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ db, admin, run, close } = await openCascadeDatabase('restore_rls'));
  });

  afterAll(async () => {
    await close?.();
  });

  it('obeys the policies of the restore role, and restores the cascade exactly when they allow it', async () => {
    const role = uniqueName('restorer');
    await admin.query(`CREATE ROLE ${role} LOGIN; GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO ${role}`);
    await admin.query(`ALTER TABLE orders ENABLE ROW LEVEL SECURITY; CREATE POLICY no_ann ON orders TO ${role} USING (true) WITH CHECK (customer_id <> 1)`);
    const snapshot = await snapshotTables(admin);
    await runAndWaitForEntries(admin, run.store, 'DELETE FROM customers WHERE id = 1', 12);
    const [root] = await run.latest('customers', 'delete');
    await run.waitForLinks(root!.id, 11);
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
    await run.waitForLinks(root!.id, 11);
    const report = await run.restore({ kind: 'cascade', entryId: root!.id });
    expect(report).toMatchObject({ outcome: 'ok', restored: 11, updated: 1, conflicts: [] });
    expect(await snapshotTables(admin)).toEqual(snapshot);
    expect((await admin.query('SELECT order_id FROM order_log ORDER BY order_id')).rows).toEqual([{ order_id: 10 }, { order_id: 11 }]);
  });
});
