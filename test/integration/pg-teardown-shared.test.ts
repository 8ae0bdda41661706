import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installDemoSchema, runSetup, runTeardown, type SetupOptions } from '@walaudit/pg';
import { connect, createTestDatabase, query, uniqueName, type TestDatabase } from '../support/postgres.js';
import { embeddedStore, startPipeline } from '../support/pipeline-harness.js';

/**
 * Two walaudit instances on one database share the walaudit schema, the context function and the
 * triggers: tearing one down must leave the other's actor context intact.
 */
let db: TestDatabase;
let lines: string[];
const a = uniqueName('inst_a');
const b = uniqueName('inst_b');

function setup(slot: string, tables: string[]): SetupOptions {
  return { slot, publication: slot, tables, dryRun: false, log: () => {} };
}

async function identities(): Promise<Record<string, string>> {
  const [row] = await query<{ ids: Record<string, string> }>(db.url, `SELECT json_object_agg(relname, relreplident) AS ids FROM pg_class WHERE relname IN ('customers', 'orders', 'order_lines')`);
  return row!.ids;
}

async function triggers(): Promise<string[]> {
  const rows = await query<{ table: string }>(db.url, `SELECT c.relname AS table FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname = 'walaudit_context' ORDER BY 1`);
  return rows.map((r) => r.table);
}

beforeEach(async () => {
  db = await createTestDatabase('teardown_shared');
  lines = [];
  await installDemoSchema(db.url);
});
afterEach(async () => db.drop());

describe('teardown of one of two instances', () => {
  it('leaves the other streaming with its db user and IP, and removes only what nothing else uses', async () => {
    await runSetup(db.url, setup(a, ['customers', 'orders']));
    await runSetup(db.url, setup(b, ['orders', 'order_lines']));
    const store = await embeddedStore(uniqueName('shared'));
    const pipeline = await startPipeline(db.url, store, { source: { slot: a, publication: a } });
    try {
      const removed = await runTeardown(db.url, { slot: b, publication: b, log: (line) => lines.push(line), resetReplicaIdentity: true });
      expect(removed).toEqual([
        `dropped replication slot ${b}`,
        `dropped publication ${b}`,
        'reset REPLICA IDENTITY of public.order_lines to DEFAULT',
        'removed trigger walaudit_context from public.order_lines',
      ]);
      expect(lines).toContain(`kept REPLICA IDENTITY FULL on public.orders (DEFAULT before walaudit setup): still published by publication ${a} of the walaudit instance on slot ${a}`);
      expect(lines).toContain(`kept trigger walaudit_context on public.customers: still published by publication ${a} of the walaudit instance on slot ${a}`);
      expect(lines).toContain('kept function walaudit.emit_statement_context() and schema walaudit: 2 trigger(s) still use it');
      expect(await triggers()).toEqual(['customers', 'orders']);
      expect(await identities()).toEqual({ customers: 'f', orders: 'f', order_lines: 'd' });

      const client = await connect(db.url);
      await client.query(`UPDATE customers SET credit_limit = credit_limit + 1 WHERE id = 1`);
      await client.end();
      await pipeline.waitForEntries(1);
      const [entry] = await store.queryLog({ table: 'customers', op: 'update', limit: 1 });
      expect(entry?.actor.db).toMatchObject({ user: 'postgres', ip: '127.0.0.1' });
    } finally {
      await pipeline.stop();
      await store.close();
    }

    lines = [];
    const last = await runTeardown(db.url, { slot: a, publication: a, log: (line) => lines.push(line) });
    expect(last).toEqual([
      `dropped replication slot ${a}`,
      `dropped publication ${a}`,
      'removed trigger walaudit_context from public.customers',
      'removed trigger walaudit_context from public.orders',
      'dropped function walaudit.emit_statement_context()',
      'dropped schema walaudit',
    ]);
    // Without --reset-replica-identity the identities stay, and how to reset them is printed.
    expect(lines).toContain('kept REPLICA IDENTITY FULL on public.customers (DEFAULT before walaudit setup): pass --reset-replica-identity to reset it');
    expect(lines).toContain('  to reset public.orders later (the record goes with schema walaudit): ALTER TABLE "public"."orders" REPLICA IDENTITY DEFAULT;');
    expect(await identities()).toEqual({ customers: 'f', orders: 'f', order_lines: 'd' });
  });

  it('keeps a publication another instance reads through', async () => {
    await runSetup(db.url, setup(a, []));
    await runSetup(db.url, { ...setup(b, []), publication: a });
    const removed = await runTeardown(db.url, { slot: b, publication: a, log: (line) => lines.push(line) });
    expect(removed).toEqual([`dropped replication slot ${b}`]);
    expect(lines).toContain(`kept publication ${a}: the walaudit instance on slot ${a} reads through it`);
    expect(await triggers()).toEqual(['customers', 'order_lines', 'orders']);
  });

  it('keeps the triggers of a partitioned table\'s partitions while another instance publishes it through the root', async () => {
    await query(db.url, `
      CREATE TABLE events (id bigint, kind text, PRIMARY KEY (id, kind)) PARTITION BY LIST (kind);
      CREATE TABLE events_a PARTITION OF events FOR VALUES IN ('a');
    `);
    await runSetup(db.url, setup(a, ['events']));
    await runSetup(db.url, setup(b, ['events', 'customers']));
    await runTeardown(db.url, { slot: b, publication: b, log: (line) => lines.push(line) });
    expect(await triggers()).toEqual(['events', 'events_a']);
  });
});
