import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditLog, type AuditEntry, type AuditStore, type AuditedEvent } from '@walaudit/core';
import { runSetup, withAuditContext } from '@walaudit/pg';
import { createTestDatabase, uniqueName, withUrl, type TestDatabase } from '../support/postgres.js';
import { embeddedStore, startPipeline, type RunningPipeline } from '../support/pipeline-harness.js';
import { TYPE_COLUMNS } from '../support/type-columns.js';

/**
 * The standalone pipeline end to end: a real Postgres slot, the real decoder and writer, the
 * embedded ClickHouse engine. Every assertion reads what was stored.
 */

describe('standalone pipeline', () => {
  let db: TestDatabase;
  let admin: pg.Client;
  let store: AuditStore;
  let pipeline: RunningPipeline;
  const slot = uniqueName('slot');
  const publication = uniqueName('pub');
  // Roles are cluster-wide: a fixed name would collide with other tests and with a second run.
  const bob = uniqueName('bob');
  const observed: AuditedEvent[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('pipeline');
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query(`
      CREATE TYPE mood AS ENUM ('happy', 'sad');
      CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
      CREATE TYPE pair AS (a integer, b text);
      CREATE TABLE all_types (id serial PRIMARY KEY, ${TYPE_COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ')});
      CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email text, secret text);
      CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers ON DELETE CASCADE, total numeric(10,2));
      CREATE TABLE order_lines (order_id int REFERENCES orders ON DELETE CASCADE, line int, sku text, PRIMARY KEY (order_id, line));
      CREATE TABLE documents (id int PRIMARY KEY, title text, body text, tags text[], meta jsonb);
      CREATE TABLE no_key (a int, b text);
      CREATE TABLE ignored_table (id int PRIMARY KEY, v text);
      CREATE ROLE ${bob} LOGIN;
      GRANT ALL ON ALL TABLES IN SCHEMA public TO ${bob};
    `);
    await runSetup(db.url, { slot, publication, tables: [], dryRun: false, log: () => {} });
    store = await embeddedStore(uniqueName('pipeline'));
    pipeline = await startPipeline(db.url, store, {
      source: { slot, publication },
      masking: { hashKey: 'test-key' },
      rules: [
        { tables: ['ignored_table'], audit: false },
        { tables: ['customers'], mask: [{ column: 'email', mode: 'hash' }], excludeColumns: ['secret'], critical: true, retentionDays: 0 },
        { tables: ['*'] },
      ],
    }, { observers: [(stored) => void observed.push(...stored)] });
  });

  afterAll(async () => {
    await pipeline?.stop();
    await admin?.end();
    await store?.close();
    await db?.drop();
  });

  const entriesOf = async (table: string, op?: AuditEntry['op']) =>
    (await store.queryLog({ table, op, limit: 10_000 })).sort((a, b) => (a.id < b.id ? -1 : 1));

  it('keeps every column losslessly: text form and type, casting back to the same value', async () => {
    const rows = [0, 1].map((i) => TYPE_COLUMNS.map(([, , values]) => values[i % values.length]!));
    for (const row of rows) {
      await admin.query(`INSERT INTO all_types (${TYPE_COLUMNS.map(([n]) => n).join(', ')}) VALUES (${row.map((_, i) => `$${i + 1}`).join(', ')})`, row);
    }
    await admin.query('INSERT INTO all_types (c_int4) VALUES (NULL)');
    await pipeline.waitForEntries(3);
    const entries = await entriesOf('all_types', 'insert');
    expect(entries).toHaveLength(3);
    // concat() prints through each type's output function, as the WAL does (boolean::text would say 'true', not 't');
    // num_nulls tests the value itself, where IS NULL would call the composite (,) null.
    const textOf = (expr: string) => `CASE WHEN num_nulls(${expr}) = 1 THEN NULL ELSE concat(${expr}) END`;
    const stored = await admin.query(`SELECT id, ${TYPE_COLUMNS.map(([n]) => `${textOf(n)} AS ${n}`).join(', ')} FROM all_types ORDER BY id`);
    for (const [i, entry] of entries.entries()) {
      const original = stored.rows[i] as Record<string, string | null>;
      for (const [name, type] of TYPE_COLUMNS) {
        const value = entry.after![name];
        expect(value, `${name} of row ${i}`).toBe(original[name]);
        const column = entry.columns.find((c) => c.name === name)!;
        expect(column.type, `${name} type`).toBeTruthy();
        if (value !== null) {
          // The recorded type name is what a restore casts with: the cast must give the same value back.
          const back = await admin.query(`SELECT ${textOf(`($1::text)::${column.type}`)} AS v, $2::text AS declared`, [value, type]);
          expect(back.rows[0].v, `${name} cast back through ${column.type}`).toBe(value);
        }
      }
    }
    expect(entries[2]!.after!.c_text).toBeNull();
  });

  it('records who: application context and the statement trigger of a psql-like session', async () => {
    await withAuditContext(admin, { user: 'alice@example.com', ip: '203.0.113.7', reason: 'ticket 42' }, async (client) => {
      await client.query(`INSERT INTO customers VALUES (1, 'Ada', 'ada@example.com', 's1'), (2, 'Bo', 'bo@example.com', 's2')`);
    });
    const psql = new pg.Client({ connectionString: withUrl(db.url, { user: bob }), application_name: 'psql' });
    await psql.connect();
    await psql.query(`INSERT INTO orders VALUES (10, 1, 9.99), (11, 1, 20.00)`);
    await psql.query(`INSERT INTO order_lines VALUES (10, 1, 'A'), (10, 2, 'B'), (11, 1, 'C')`);
    await psql.query('DELETE FROM customers WHERE id = 1');
    await psql.end();
    await pipeline.waitForEntries(3 + 2 + 2 + 3 + 1 + 2 + 3);

    const inserts = await entriesOf('customers', 'insert');
    expect(inserts.map((e) => e.actor.app)).toEqual([
      { user: 'alice@example.com', ip: '203.0.113.7', reason: 'ticket 42' },
      { user: 'alice@example.com', ip: '203.0.113.7', reason: 'ticket 42' },
    ]);
    expect(inserts[0]!.actor.db?.user).toBe('postgres');

    const deletes = await store.queryLog({ op: 'delete', limit: 100 });
    const tables = deletes.map((e) => e.table).sort();
    expect(tables).toEqual(['customers', 'order_lines', 'order_lines', 'order_lines', 'orders', 'orders']);
    for (const entry of deletes) {
      expect(entry.actor.db).toMatchObject({ user: bob, applicationName: 'psql' });
      expect(entry.actor.db?.statement).toContain('DELETE FROM customers');
      expect(entry.tx.xid).toBe(deletes[0]!.tx.xid);
    }
    const line = deletes.find((e) => e.table === 'order_lines' && e.pk?.line === '2')!;
    expect(line.before).toEqual({ order_id: '10', line: '2', sku: 'B' });
    expect(line.pk).toEqual({ order_id: '10', line: '2' });
  });

  it('applies rules before storing: masking, excluded columns, dropped tables, retention, critical', async () => {
    await admin.query(`INSERT INTO ignored_table VALUES (1, 'never stored')`);
    await admin.query(`UPDATE customers SET email = 'bo@new.example' WHERE id = 2`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await entriesOf('ignored_table')).toEqual([]);
    const [update] = await entriesOf('customers', 'update');
    expect(update).toBeDefined();
    expect(update!.before!.email).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(update!.after!.email).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(update!.before!.email).not.toBe(update!.after!.email);
    expect(update!.before).not.toHaveProperty('secret');
    expect(update!.changed).toEqual(['email']);
    expect(update!.critical).toBe(true);
    expect(update!.retentionDays).toBe(0);
    const [order] = await entriesOf('orders', 'insert');
    expect(order!.retentionDays).toBe(90);
  });

  it('keeps TOASTed values whole in before-images of updates and deletes', async () => {
    const body = 'x'.repeat(50_000) + 'end';
    const tags = Array.from({ length: 2000 }, (_, i) => `tag-${i}`);
    const meta = { items: Array.from({ length: 3000 }, (_, i) => ({ i, name: `item ${i}` })) };
    await admin.query('INSERT INTO documents VALUES (1, $1, $2, $3, $4)', ['t', body, tags, meta]);
    await admin.query(`UPDATE documents SET title = 'renamed' WHERE id = 1`);
    await admin.query('DELETE FROM documents WHERE id = 1');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [update] = await entriesOf('documents', 'update');
    const [remove] = await entriesOf('documents', 'delete');
    expect(update?.before?.body).toBe(body);
    expect(update?.after?.body).toBe(body);
    expect(update?.changed).toEqual(['title']);
    expect(remove?.before?.body).toBe(body);
    expect(remove?.before?.tags?.length).toBeGreaterThan(10_000);
    expect(JSON.parse(remove!.before!.meta!)).toEqual(meta);
  });

  it('audits a table without a primary key, keyed by the full row, and says so once', async () => {
    await admin.query(`INSERT INTO no_key VALUES (1, 'a'), (1, 'a')`);
    await admin.query(`DELETE FROM no_key`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const deletes = await entriesOf('no_key', 'delete');
    expect(deletes).toHaveLength(2);
    expect(deletes[0]!.keyKind).toBe('full-row');
    expect(deletes[0]!.pk).toEqual({ a: '1', b: 'a' });
    expect(pipeline.notices.filter((n) => n.startsWith('NO_PRIMARY_KEY') && n.includes('public.no_key'))).toHaveLength(1);
  });

  it('records a schema entry when a table changes shape, and uses the new shape after it', async () => {
    await admin.query('ALTER TABLE orders ADD COLUMN note text');
    await admin.query(`INSERT INTO customers VALUES (3, 'Cy', NULL, NULL)`);
    await admin.query(`INSERT INTO orders VALUES (12, 3, 1.00, 'hello')`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [schema] = await entriesOf('orders', 'schema');
    expect(schema?.schemaChange?.oldColumns?.map((c) => c.name)).toEqual(['id', 'customer_id', 'total']);
    expect(schema?.schemaChange?.newColumns.map((c) => c.name)).toEqual(['id', 'customer_id', 'total', 'note']);
    const inserts = await entriesOf('orders', 'insert');
    expect(inserts.at(-1)?.after).toEqual({ id: '12', customer_id: '3', total: '1.00', note: 'hello' });
  });

  it('records application actions and truncates', async () => {
    await admin.query('BEGIN');
    await admin.query(`SELECT pg_logical_emit_message(true, 'walaudit.action', '{"name":"export","table":"public.orders","key":{"id":"12"},"format":"csv"}')`);
    await admin.query('COMMIT');
    await admin.query('TRUNCATE order_lines');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const actions = await store.queryLog({ op: 'action', limit: 10 });
    expect(actions).toHaveLength(1);
    expect(actions[0]).toMatchObject({ table: 'orders', pk: { id: '12' }, action: { name: 'export', format: 'csv' } });
    expect(await entriesOf('order_lines', 'truncate')).toHaveLength(1);
  });

  it('hands every stored batch to the observers, in log order and as stored (masked)', async () => {
    const stored = (await store.queryLog({ limit: 100_000 })).map((entry) => entry.id).sort();
    expect(observed.map((item) => item.event.id)).toEqual(stored);
    const customer = observed.find((item) => item.event.table === 'customers' && item.event.after?.email != null);
    expect(customer?.critical).toBe(true);
    expect(customer?.event.after?.email).toMatch(/^hmac-sha256:/);
    expect(customer?.event.after).not.toHaveProperty('secret');
  });

  it('keeps an intact hash chain over everything stored', async () => {
    const report = await verifyAuditLog(store);
    expect(report.problem).toBeNull();
    expect(report.ok).toBe(true);
    expect(report.entriesChecked).toBe(await store.countEntries());
  });
});
