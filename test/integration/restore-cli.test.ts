import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { findFreePort, runSetup } from '@walaudit/pg';
import { createTestDatabase, uniqueName, type TestDatabase } from '../support/postgres.js';
import { spawnWalaudit, runWalaudit, type WalauditProcess } from '../support/walaudit-process.js';
import { tempDir } from '../support/temp-dir.js';
import { CASCADE_DDL, CASCADE_FILL_ENTRIES, fillCascadeData, snapshotTables, CUSTOMER_1_TREE_SUMMARY, cascadeTreeOf } from '../support/cascade-fixture.js';

/** Standalone, as a user runs it: `walaudit start` holds the store; log and restore ask it over HTTP. */
describe('walaudit log --caused-by and walaudit restore against a running start', () => {
  let db: TestDatabase;
  let admin: pg.Client;
  let start: WalauditProcess;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    db = await createTestDatabase('restorecli');
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query(CASCADE_DDL);
    const slot = uniqueName('cli');
    await runSetup(db.url, { slot, publication: slot, tables: [], dryRun: false, log: () => {} });
    await fillCascadeData(admin);
    const port = await findFreePort();
    env = { WALAUDIT_HTTP_PORT: String(port) };
    start = spawnWalaudit(['start', '--source', db.url, '--data-dir', tempDir('restorecli'), '--slot', slot, '--publication', slot], env);
    await start.waitFor((status) => status.state === 'running');
  });

  afterAll(async () => {
    await start?.kill('SIGTERM');
    await admin?.end();
    await db?.drop();
  });

  it('prints the tree, plans, restores in the start process, reports the job, and exits 1 on a refused conflict', async () => {
    const snapshot = await snapshotTables(admin);
    const stored = (await start.waitFor((status) => status.entriesStored >= CASCADE_FILL_ENTRIES)).entriesStored;
    await admin.query('DELETE FROM customers WHERE id = 1');
    await start.waitFor((status) => status.entriesStored >= stored + 12);
    const rootId = (JSON.parse((await runWalaudit(['log', '--table', 'customers', '--op', 'delete', '--limit', '1', '--json'], env)).stdout) as { id: string }).id;

    const tree = await cascadeTreeOf(rootId, (args) => runWalaudit(args, env));
    const lines = tree.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^DELETE public.customers id=1  xid \\d+  .*  id ${rootId}$`));
    expect(tree).toMatch(/├─ public\.orders id=10  CASCADE by orders_customer_id_fkey  id /);
    expect(tree).toMatch(/│  [├└]─ public\.notes id=5  SET NULL by notes_order_id_fkey  id /);
    expect(tree).toMatch(/│ {5}└─ public\.folders id=3  CASCADE by folders_parent_id_fkey/);
    expect(lines.at(-1)).toBe(CUSTOMER_1_TREE_SUMMARY);

    const dry = await runWalaudit(['restore', '--cascade', rootId, '--dry-run'], env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`INSERT INTO "public"."customers" ("id", "name") VALUES ('1'::integer, 'Ann'::text);`);
    expect(dry.stdout).toContain('would restore 11 rows, would set back 1 updated rows');
    expect((await admin.query('SELECT count(*)::int AS n FROM customers')).rows[0].n).toBe(1);

    const restored = await runWalaudit(['restore', '--cascade', rootId, '--wait', '--user', 'dba-bob'], env);
    // Progress goes to stderr (a bar on a terminal, a line per change otherwise); no error there.
    expect(restored.stderr).not.toContain('walaudit:');
    expect(restored.code).toBe(0);
    expect(restored.stdout).toContain('restored 11 rows, set back 1 updated rows');
    expect(await snapshotTables(admin)).toEqual(snapshot);

    const status = await runWalaudit(['restore', '--status', `restore-cascade-${rootId}-fail`], env);
    expect(status.stdout).toContain(`restore job restore-cascade-${rootId}-fail: completed (attempts 1), asked by dba-bob`);

    await admin.query(`UPDATE customers SET name = 'Ann B.' WHERE id = 1`);
    const refused = await runWalaudit(['restore', rootId, '--wait'], env);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('restore FAILED: 1 conflict under --on-conflict fail: nothing was restored');
    expect(refused.stdout).toContain('FAIL key-exists public.customers id=1');

    const wrongKind = await runWalaudit(['restore', '--revert', rootId], env);
    expect(wrongKind.code).toBe(2);
    expect(wrongKind.stderr).toContain(`entry ${rootId} is a delete of public.customers: give it without --revert`);
  });
});
