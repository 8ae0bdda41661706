import { describe, expect, it } from 'vitest';
import { CascadeLinker, type ChangeEvent, type ConflictPolicy, type ForeignKey, type RestoreRequest } from '@walaudit/core';
import { audited, transactionEvents, type RowChange } from '../../../test/support/change-events.js';
import { MemoryAuditStore } from '../../../test/support/memory-audit-store.js';
import { linkedEntries } from '../../../test/support/linked-entries.js';
import { MemoryCascadeLinks } from '../../../test/support/memory-cascade-links.js';
import { MemoryPostgres, pgError, type MemoryTable } from '../../../test/support/memory-postgres.js';
import { runRestore, type RestoreOptions, type RestoreProgress } from './restore-runner.js';

// A restore from in-memory audit entries and links into an in-memory Postgres that answers the
// restorer's statements (the real Postgres, COPY and row security are covered by the integration
// tests): the plan, the conflict policies, the report, and one transaction for all of it.

const fk = (name: string, table: string, columns: string[], refTable: string, refColumns: string[], onDelete: ForeignKey['onDelete']): ForeignKey => ({
  name, schema: 'public', table, columns, refSchema: 'public', refTable, refColumns, onDelete,
});

const FOREIGN_KEYS = [
  fk('orders_customer_fk', 'orders', ['customer_id'], 'customers', ['id'], 'cascade'),
  fk('lines_order_fk', 'order_lines', ['order_id'], 'orders', ['id'], 'cascade'),
  fk('notes_order_fk', 'notes', ['order_id'], 'orders', ['id'], 'set-null'),
];

const TYPES = {
  customers: { id: 'integer', name: 'text' },
  orders: { id: 'integer', customer_id: 'integer', total: 'numeric(10,2)' },
  order_lines: { order_id: 'integer', line: 'integer', qty: 'integer' },
  notes: { id: 'integer', order_id: 'integer', body: 'text' },
};

/** The tables as they are after the deletions below (the restore's starting point). */
function database(change: (tables: Record<string, MemoryTable>) => void = () => undefined): MemoryPostgres {
  const tables: Record<string, MemoryTable> = {
    customers: { table: 'customers', primaryKey: ['id'], columns: [{ name: 'id', type: 'integer', notNull: true }, { name: 'name', type: 'text' }], rows: [{ id: '2', name: 'Bob' }] },
    orders: {
      table: 'orders', primaryKey: ['id'], nextKey: 1000,
      columns: [{ name: 'id', type: 'integer', notNull: true, hasDefault: true }, { name: 'customer_id', type: 'integer', notNull: true }, { name: 'total', type: 'numeric(10,2)' }],
      rows: [{ id: '20', customer_id: '2', total: '9.99' }],
    },
    order_lines: {
      table: 'order_lines', primaryKey: ['order_id', 'line'],
      columns: [{ name: 'order_id', type: 'integer', notNull: true }, { name: 'line', type: 'integer', notNull: true }, { name: 'qty', type: 'integer' }],
    },
    notes: {
      table: 'notes', primaryKey: ['id'], columns: [{ name: 'id', type: 'integer', notNull: true }, { name: 'order_id', type: 'integer' }, { name: 'body', type: 'text' }],
      rows: [{ id: '5', order_id: null, body: 'call first' }, { id: '7', order_id: '20', body: 'Bob\'s' }],
    },
  };
  change(tables);
  return new MemoryPostgres(Object.values(tables), FOREIGN_KEYS);
}

const row = (op: RowChange['op'], table: keyof typeof TYPES, image: Record<string, string | null>, after?: Record<string, string | null>): RowChange => ({
  op, table, types: TYPES[table], key: table === 'order_lines' ? ['order_id', 'line'] : ['id'],
  ...(op === 'insert' ? { after: image } : { before: image }), ...(after ? { after } : {}),
});

/** DELETE FROM customers WHERE id = 1, as the WAL has it: Ann, her two orders, their lines, a note set to NULL. */
const CUSTOMER_DELETE = transactionEvents({ lsn: 0x10000, xid: 901 }, [
  row('delete', 'customers', { id: '1', name: 'Ann' }),
  row('delete', 'orders', { id: '10', customer_id: '1', total: '12.50' }),
  row('delete', 'order_lines', { order_id: '10', line: '1', qty: '3' }),
  row('delete', 'order_lines', { order_id: '10', line: '2', qty: '1' }),
  row('update', 'notes', { id: '5', order_id: '10', body: 'call first' }, { id: '5', order_id: null, body: 'call first' }),
  row('delete', 'orders', { id: '11', customer_id: '1', total: '0.10' }),
]);
/** DELETE FROM orders WHERE id = 30 (Bob's): the order and its line. */
const ORDER_DELETE = transactionEvents({ lsn: 0x20000, xid: 902 }, [
  row('delete', 'orders', { id: '30', customer_id: '2', total: '5.00' }),
  row('delete', 'order_lines', { order_id: '30', line: '1', qty: '7' }),
]);
/** UPDATE customers SET name = 'Robert' WHERE id = 2. */
const RENAME = transactionEvents({ lsn: 0x30000, xid: 903 }, [row('update', 'customers', { id: '2', name: 'Bob' }, { id: '2', name: 'Robert' })]);

/** The audit log and cascade links of those transactions, as the writer and correlator left them. */
async function auditTrail() {
  const audit = new MemoryAuditStore();
  const links = new MemoryCascadeLinks(audit, { pageRows: 2 });
  const linker = new CascadeLinker(FOREIGN_KEYS);
  let heads = new Map<number, string>();
  for (const events of [CUSTOMER_DELETE, ORDER_DELETE, RENAME]) {
    const linked = linkedEntries(heads, audited(events));
    heads = linked.heads;
    await audit.insertEntries(linked.entries, linked.bodies);
    await links.insertLinks(linker.link(events));
  }
  return { audit, links };
}

async function restore(db: MemoryPostgres, request: RestoreRequest, options: Partial<RestoreOptions> = {}) {
  const { links } = await auditTrail();
  const progress: RestoreProgress['phase'][] = [];
  const report = await runRestore(
    { entries: links, links, restoreUrl: 'postgres://restorer@localhost:5432/shop', rules: [], batchRows: 2, connect: db.connect },
    request,
    { policy: 'fail', dryRun: false, requestedBy: 'dba', jobId: 'job-1', onProgress: (p) => progress.at(-1) !== p.phase && progress.push(p.phase), ...options },
  );
  return { report, progress };
}

const id = (events: readonly ChangeEvent[], i: number) => events[i]!.id;

describe('runRestore: what goes back', () => {
  it('puts one deleted row back in one transaction after the audit context naming the restore', async () => {
    const db = database();
    const { report, progress } = await restore(db, { kind: 'entry', entryId: id(CUSTOMER_DELETE, 0) });
    expect(report).toMatchObject({ outcome: 'ok', dryRun: false, restored: 1, restoredByTable: { 'public.customers': 1 }, updated: 0, conflicts: [], newKeys: [] });
    expect(db.rowsOf('customers')).toEqual([{ id: '1', name: 'Ann' }, { id: '2', name: 'Bob' }]);
    expect(db.statements).toEqual(['BEGIN', 'EMIT walaudit', 'SET CONSTRAINTS ALL DEFERRED', 'COPY public.customers (1 rows)', 'COMMIT']);
    expect(db.messages).toEqual([{
      prefix: 'walaudit',
      content: { user: 'walaudit-restore', requestedBy: 'dba', reason: `restore entry ${id(CUSTOMER_DELETE, 0)}`, restoreJob: 'job-1', restoredEntries: [id(CUSTOMER_DELETE, 0)], restoredEntryCount: 1 },
    }]);
    expect(progress).toEqual(['reading', 'planning', 'writing', 'done']);
    expect(db.applicationNames).toEqual(['walaudit-restore']);
    expect(db.closed).toBe(1);
  });

  it('restores a cascade parents first, and sets back the foreign keys its deletion set to NULL', async () => {
    const db = database();
    const { report } = await restore(db, { kind: 'cascade', entryId: id(CUSTOMER_DELETE, 0) });
    expect(report).toMatchObject({ outcome: 'ok', restored: 5, updated: 1, restoredByTable: { 'public.customers': 1, 'public.orders': 2, 'public.order_lines': 2 } });
    expect(db.statements).toEqual([
      'BEGIN', 'EMIT walaudit', 'SET CONSTRAINTS ALL DEFERRED',
      'COPY public.customers (1 rows)', 'COPY public.orders (2 rows)', 'COPY public.order_lines (2 rows)', 'UPDATE public.notes',
      'COMMIT',
    ]);
    expect(db.rowsOf('orders').map((order) => order.id)).toEqual(['10', '11', '20']);
    expect(db.rowsOf('order_lines')).toEqual([{ order_id: '10', line: '1', qty: '3' }, { order_id: '10', line: '2', qty: '1' }]);
    expect(db.rowsOf('notes')).toContainEqual({ id: '5', order_id: '10', body: 'call first' });
    expect(db.messages[0]!.content.restoredEntryCount).toBe(6);
  });

  it('reverts an update to the values before it', async () => {
    const db = database((t) => (t.customers!.rows = [{ id: '2', name: 'Robert' }]));
    const { report } = await restore(db, { kind: 'revert', entryId: id(RENAME, 0) });
    expect(report).toMatchObject({ outcome: 'ok', restored: 0, updated: 1 });
    expect(db.rowsOf('customers')).toEqual([{ id: '2', name: 'Bob' }]);
  });

  it('writes nothing on a dry run, and reports the statements it would run', async () => {
    const db = database();
    const { report } = await restore(db, { kind: 'tx', xid: 902 }, { dryRun: true });
    expect(report).toMatchObject({ outcome: 'ok', dryRun: true, restored: 2 });
    expect(report.sql).toEqual([
      'BEGIN;',
      'SET CONSTRAINTS ALL DEFERRED;',
      `INSERT INTO "public"."orders" ("id", "customer_id", "total") VALUES ('30'::integer, '2'::integer, '5.00'::numeric(10,2));`,
      `INSERT INTO "public"."order_lines" ("order_id", "line", "qty") VALUES ('30'::integer, '1'::integer, '7'::integer);`,
      'COMMIT;',
    ]);
    expect(db.statements).toEqual(['BEGIN READ ONLY', 'ROLLBACK']);
    expect(db.messages).toEqual([]);
  });

  it('does nothing for rows already back as they were', async () => {
    const db = database((t) => t.customers!.rows!.push({ id: '1', name: 'Ann' }));
    const { report } = await restore(db, { kind: 'entry', entryId: id(CUSTOMER_DELETE, 0) });
    expect(report).toMatchObject({ outcome: 'ok', restored: 0, alreadyPresent: 1 });
    expect(db.statements.filter((line) => /^(COPY|INSERT|UPDATE)/.test(line))).toEqual([]);
  });

  it('inserts with INSERT where COPY would write differently (row-level security, rules)', async () => {
    const db = database((t) => (t.customers!.insertOnly = true));
    await restore(db, { kind: 'entry', entryId: id(CUSTOMER_DELETE, 0) });
    expect(db.statements).toContain('INSERT public.customers (1 rows)');
    expect(db.rowsOf('customers')).toHaveLength(2);
  });
});

describe('runRestore: conflicts', () => {
  /** Order 30 exists again, with other values: its key is taken. */
  const taken = () => database((t) => t.orders!.rows!.push({ id: '30', customer_id: '2', total: '7.77' }));
  const restoreOrder = (db: MemoryPostgres, policy: ConflictPolicy) => restore(db, { kind: 'tx', xid: 902 }, { policy });

  it('fail: writes nothing and reports every conflict', async () => {
    const db = taken();
    const { report } = await restoreOrder(db, 'fail');
    expect(report).toMatchObject({ outcome: 'failed', restored: 0, error: { code: 'RESTORE_CONFLICT' } });
    expect(report.conflicts).toMatchObject([{ kind: 'key-exists', resolution: 'fail', entryId: id(ORDER_DELETE, 0), table: 'orders', key: { id: '30' } }]);
    expect(db.statements).toEqual(['BEGIN', 'ROLLBACK']);
    expect(db.rowsOf('order_lines')).toEqual([]);
  });

  it('skip: leaves the row out and restores the rest', async () => {
    const db = taken();
    const { report } = await restoreOrder(db, 'skip');
    expect(report).toMatchObject({ outcome: 'ok', restored: 1, restoredByTable: { 'public.order_lines': 1 } });
    expect(report.skipped).toMatchObject([{ entryId: id(ORDER_DELETE, 0), table: 'public.orders', key: { id: '30' } }]);
    expect(db.rowsOf('orders')).toContainEqual({ id: '30', customer_id: '2', total: '7.77' });
    expect(db.rowsOf('order_lines')).toEqual([{ order_id: '30', line: '1', qty: '7' }]);
  });

  it('new-key: inserts the row with a key from the default, and its children follow it', async () => {
    const db = taken();
    const { report } = await restoreOrder(db, 'new-key');
    expect(report).toMatchObject({ outcome: 'ok', restored: 2 });
    expect(report.newKeys).toEqual([{ entryId: id(ORDER_DELETE, 0), table: 'public.orders', oldKey: { id: '30' }, newKey: { id: '1000' } }]);
    expect(db.rowsOf('orders')).toContainEqual({ id: '1000', customer_id: '2', total: '5.00' });
    expect(db.rowsOf('order_lines')).toEqual([{ order_id: '1000', line: '1', qty: '7' }]);
    // The new key is read back (INSERT ... RETURNING) before the children are written with it.
    expect(db.statements.filter((line) => /^(COPY|INSERT)/.test(line))).toEqual(['INSERT public.orders', 'COPY public.order_lines (1 rows)']);
  });
});

describe('runRestore: refusals and failures', () => {
  it('refuses without the privilege to insert, naming the GRANT, before writing anything', async () => {
    const db = database((t) => (t.customers!.canInsert = false));
    await expect(restore(db, { kind: 'entry', entryId: id(CUSTOMER_DELETE, 0) })).rejects.toMatchObject({
      code: 'PG_PRIVILEGE',
      message: expect.stringContaining('GRANT INSERT ON public.customers TO walaudit_restore'),
    });
    expect(db.statements).toEqual(['BEGIN', 'ROLLBACK']);
    expect(db.closed).toBe(1);
  });

  it('rolls everything back when a statement fails halfway', async () => {
    const db = database();
    db.failWrite = { prefix: 'UPDATE public.notes', error: pgError('40P01', 'deadlock detected') };
    await expect(restore(db, { kind: 'cascade', entryId: id(CUSTOMER_DELETE, 0) })).rejects.toMatchObject({ code: 'PG_QUERY_FAILED', retriable: true });
    expect(db.statements.at(-1)).toBe('ROLLBACK');
    expect(db.rowsOf('customers')).toEqual([{ id: '2', name: 'Bob' }]);
    expect(db.rowsOf('order_lines')).toEqual([]);
    expect(db.closed).toBe(1);
  });

  it('refuses an id that names no entry, or the wrong kind of entry, and closes the connection', async () => {
    const db = database();
    await expect(restore(db, { kind: 'entry', entryId: '00000000000FFFFF-0' })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('no audit entry has id') });
    await expect(restore(db, { kind: 'entry', entryId: id(RENAME, 0) })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('use --revert') });
    expect(db.closed).toBe(db.connections);
    expect(db.statements.filter((line) => line !== 'BEGIN')).toEqual([]);
  });
});
