import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installDemoSchema, runSetup, runTeardown, type SetupOptions } from '@walaudit/pg';
import { createTestDatabase, query, uniqueName, type TestDatabase } from '../support/postgres.js';

let db: TestDatabase;
let slot: string;
let lines: string[];

function options(overrides: Partial<SetupOptions> = {}): SetupOptions {
  return { slot, publication: 'walaudit', tables: [], dryRun: false, log: (line) => lines.push(line), ...overrides };
}

/** The walaudit objects a database holds, read from the catalog. */
async function state() {
  const [row] = await query<{ pub: boolean | null; published: string[] | null; slot: string | null; identities: Record<string, string>; triggers: string[] | null; fn: boolean; schema: boolean }>(
    db.url,
    `SELECT (SELECT puballtables FROM pg_publication WHERE pubname = 'walaudit') AS pub,
            (SELECT array_agg(tablename::text ORDER BY tablename) FROM pg_publication_tables WHERE pubname = 'walaudit') AS published,
            (SELECT plugin::text FROM pg_replication_slots WHERE slot_name = $1) AS slot,
            (SELECT json_object_agg(relname, relreplident) FROM pg_class WHERE relname IN ('customers', 'orders', 'order_lines', 'notes')) AS identities,
            (SELECT array_agg(c.relname::text ORDER BY c.relname) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname = 'walaudit_context') AS triggers,
            to_regprocedure('walaudit.emit_statement_context()') IS NOT NULL AS fn,
            EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'walaudit') AS schema`,
    [slot],
  );
  return row!;
}

beforeEach(async () => {
  db = await createTestDatabase('setup');
  slot = uniqueName('slot');
  lines = [];
  await installDemoSchema(db.url);
});
afterEach(async () => db.drop());

describe('runSetup', () => {
  it('creates publication, slot, FULL identity and triggers, then plans nothing the second time', async () => {
    const steps = await runSetup(db.url, options());
    expect(steps.at(-1)?.kind).toBe('slot');
    expect(await state()).toMatchObject({
      pub: true,
      published: ['customers', 'order_lines', 'orders'],
      slot: 'pgoutput',
      identities: { customers: 'f', orders: 'f', order_lines: 'f' },
      triggers: ['customers', 'order_lines', 'orders'],
      fn: true,
    });
    expect(lines).toContain('created publication walaudit FOR ALL TABLES with publish_via_partition_root');
    expect(lines).toContain('set REPLICA IDENTITY FULL on public.orders');
    expect(lines).toContain(`created logical replication slot ${slot} (pgoutput)`);

    lines = [];
    expect(await runSetup(db.url, options())).toEqual([]);
    expect(lines).toEqual([]);
  });

  it('changes nothing on a dry run and prints the SQL', async () => {
    const before = await state();
    const steps = await runSetup(db.url, options({ dryRun: true }));
    expect(steps.length).toBeGreaterThan(5);
    expect(await state()).toEqual(before);
    expect(before).toMatchObject({ pub: null, slot: null, triggers: null, schema: false });
    const printed = lines.join('\n');
    expect(printed).toContain('CREATE PUBLICATION "walaudit" FOR ALL TABLES WITH (publish_via_partition_root = true);');
    expect(printed).toContain(`SELECT pg_create_logical_replication_slot('${slot}', 'pgoutput');`);
  });

  it('publishes a table list and adds tables to it later', async () => {
    await runSetup(db.url, options({ tables: ['orders', 'public.customers'] }));
    expect(await state()).toMatchObject({ pub: false, published: ['customers', 'orders'], triggers: ['customers', 'orders'], identities: { order_lines: 'd' } });

    lines = [];
    const steps = await runSetup(db.url, options({ tables: ['orders', 'customers', 'order_lines'] }));
    expect(steps.map((s) => s.kind)).toEqual(['trigger', 'replica-identity', 'publication-add']);
    expect(lines).toContain('added public.order_lines to publication walaudit');
    expect((await state()).published).toEqual(['customers', 'order_lines', 'orders']);
  });

  it('warns about tables without a primary key', async () => {
    await query(db.url, 'CREATE TABLE notes (body text)');
    await runSetup(db.url, options());
    expect(lines).toContain('warning: public.notes has no primary key: audited, keyed by the full row');
    expect((await state()).identities.notes).toBe('f');
  });

  it('names a missing table and changes nothing', async () => {
    await expect(runSetup(db.url, options({ tables: ['orders', 'public.nope'] }))).rejects.toMatchObject({
      code: 'PG_TABLE_NOT_FOUND',
      message: expect.stringContaining('public.nope'),
    });
    expect(await state()).toMatchObject({ pub: null, slot: null, schema: false });
  });
});

describe('runTeardown', () => {
  it('removes everything setup made, and a second teardown is fine', async () => {
    await runSetup(db.url, options());
    lines = [];
    const removed = await runTeardown(db.url, { slot, publication: 'walaudit', log: (line) => lines.push(line) });
    expect(removed).toEqual([
      `dropped replication slot ${slot}`,
      'dropped publication walaudit',
      'removed trigger walaudit_context from public.customers',
      'removed trigger walaudit_context from public.order_lines',
      'removed trigger walaudit_context from public.orders',
      'dropped function walaudit.emit_statement_context()',
      'dropped schema walaudit',
    ]);
    expect(await state()).toMatchObject({ pub: null, slot: null, triggers: null, fn: false, schema: false });

    lines = [];
    expect(await runTeardown(db.url, { slot, publication: 'walaudit', log: (line) => lines.push(line) })).toEqual([]);
    expect(lines).toEqual(['nothing to remove: walaudit is not set up here']);
  });
});
