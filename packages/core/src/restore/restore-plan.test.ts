import { describe, expect, it } from 'vitest';
import type { AuditEntry, RowImage } from '../change-event.types.js';
import type { ForeignKey } from '../cascade/foreign-key.types.js';
import { planRestore } from './restore-plan.js';
import type { CurrentColumn, DatabaseFacts, InsertStep, RestoreSelection, TableFacts } from './restore.types.js';

const col = (name: string, type: string, more: Partial<CurrentColumn> = {}): CurrentColumn => ({ name, type, notNull: false, hasDefault: false, generated: false, identityAlways: false, ...more });
const table = (name: string, primaryKey: string[], columns: CurrentColumn[]): TableFacts => ({
  schema: 'public', table: name, exists: true, columns: new Map(columns.map((c) => [c.name, c])), primaryKey, canInsert: true, canUpdate: true,
});
const fk = (name: string, t: string, columns: string[], refTable: string, refColumns: string[]): ForeignKey => ({ name, schema: 'public', table: t, columns, refSchema: 'public', refTable, refColumns, onDelete: 'cascade' });

let seq = 0;
function deleted(t: string, before: RowImage, types: Record<string, string>, pk: string[]): AuditEntry {
  const s = seq++;
  return {
    id: `00000000000000AA-${s}`, op: 'delete', schema: 'public', table: t, keyKind: 'primary-key', pk: Object.fromEntries(pk.map((k) => [k, before[k] ?? null])),
    columns: Object.entries(types).map(([name, type]) => ({ name, type, typeOid: 0 })), before, after: null, changed: [],
    tx: { xid: 9, lsn: '0/AA', commitTime: '2026-01-01T00:00:00.000000Z', seq: s }, actor: {}, prevHash: '', hash: '', retentionDays: 0, critical: false,
  };
}

const CUSTOMER_TYPES = { id: 'integer', name: 'text' };
const ORDER_TYPES = { id: 'integer', customer_id: 'integer', total: 'numeric(10,2)' };
const FOLDER_TYPES = { id: 'integer', parent_id: 'integer' };

function facts(more: Partial<DatabaseFacts> = {}): DatabaseFacts {
  return {
    tables: new Map([
      ['public.customers', table('customers', ['id'], [col('id', 'integer', { notNull: true }), col('name', 'text')])],
      ['public.orders', table('orders', ['id'], [col('id', 'integer', { notNull: true, hasDefault: true }), col('customer_id', 'integer', { notNull: true }), col('total', 'numeric(10,2)')])],
      ['public.folders', table('folders', ['id'], [col('id', 'integer', { notNull: true }), col('parent_id', 'integer')])],
    ]),
    foreignKeys: [fk('orders_customer_fk', 'orders', ['customer_id'], 'customers', ['id']), fk('folders_parent_fk', 'folders', ['parent_id'], 'folders', ['id'])],
    rows: new Map(),
    presentTargets: new Set(),
    maskedColumns: new Set(),
    ...more,
  };
}

const select = (deletes: AuditEntry[]): RestoreSelection => ({ deletes, nullings: [], reverts: [] });
const labels = (plan: ReturnType<typeof planRestore>) => plan.levels.map((level) => level.map((s) => `${s.table}:${s.key?.id}`));
/** A step's columns with their values. */
const columnsOf = (step: InsertStep) => step.columns.map((c, i) => ({ ...c, value: step.values[i] }));

describe('planRestore', () => {
  const customer = deleted('customers', { id: '1', name: 'Ann' }, CUSTOMER_TYPES, ['id']);
  const order = deleted('orders', { id: '10', customer_id: '1', total: '1.50' }, ORDER_TYPES, ['id']);

  it('puts parents before children whatever order the entries come in, with their text values and types', () => {
    const plan = planRestore({ kind: 'tx', xid: 9 }, 'fail', select([order, customer]), facts());
    expect(labels(plan)).toEqual([['customers:1'], ['orders:10']]);
    expect(columnsOf(plan.levels[1]![0]!)).toEqual([
      { name: 'id', type: 'integer', value: '10' },
      { name: 'customer_id', type: 'integer', value: '1' },
      { name: 'total', type: 'numeric(10,2)', value: '1.50' },
    ]);
    expect(plan.blocked).toBe(false);
  });

  it('orders a self-referencing tree by depth', () => {
    const rows = [['4', '2'], ['1', null], ['2', '1'], ['3', '1']].map(([id, parent]) => deleted('folders', { id: id!, parent_id: parent! }, FOLDER_TYPES, ['id']));
    expect(labels(planRestore({ kind: 'tx', xid: 9 }, 'fail', select(rows), facts()))).toEqual([['folders:1'], ['folders:2', 'folders:3'], ['folders:4']]);
  });

  it('orders composite keys by every column', () => {
    const f = facts({
      tables: new Map([
        ['public.bins', table('bins', ['wh', 'code'], [col('wh', 'text'), col('code', 'integer')])],
        ['public.shipments', table('shipments', ['id'], [col('id', 'integer'), col('wh', 'text'), col('bin', 'integer')])],
      ]),
      foreignKeys: [fk('ship_bin_fk', 'shipments', ['wh', 'bin'], 'bins', ['wh', 'code'])],
    });
    const ship = deleted('shipments', { id: '1', wh: 'A', bin: '7' }, { id: 'integer', wh: 'text', bin: 'integer' }, ['id']);
    const bin = deleted('bins', { wh: 'A', code: '7' }, { wh: 'text', code: 'integer' }, ['wh', 'code']);
    const other = deleted('bins', { wh: '7', code: 'A' }, { wh: 'text', code: 'integer' }, ['wh', 'code']);
    const plan = planRestore({ kind: 'tx', xid: 9 }, 'fail', select([ship, other, bin]), f);
    expect(plan.levels.map((l) => l.map((s) => s.entryId))).toEqual([[other.id, bin.id], [ship.id]]);
  });

  describe('a key that exists again', () => {
    const taken = (values: RowImage) => facts({ rows: new Map([['public.orders', new Map([['10', values]])]]) });

    it('is nothing to do when the row is back exactly as it was (a repeated request)', () => {
      const plan = planRestore({ kind: 'entry', entryId: order.id }, 'fail', select([order]), taken({ id: '10', customer_id: '1', total: '1.50' }));
      expect(plan.levels).toEqual([]);
      expect(plan.alreadyPresent.map((r) => r.entryId)).toEqual([order.id]);
      expect(plan.blocked).toBe(false);
    });

    it('fails, skips, or takes a new key by policy; the children follow the new key', () => {
      const other = taken({ id: '10', customer_id: '2', total: '9.99' });
      const fail = planRestore({ kind: 'entry', entryId: order.id }, 'fail', select([order]), other);
      expect(fail.blocked).toBe(true);
      expect(fail.conflicts).toMatchObject([{ kind: 'key-exists', resolution: 'fail', entryId: order.id }]);

      const skip = planRestore({ kind: 'entry', entryId: order.id }, 'skip', select([order]), other);
      expect(skip.levels).toEqual([]);
      expect(skip.conflicts).toMatchObject([{ kind: 'key-exists', resolution: 'skipped' }]);

      const line = deleted('lines', { order_id: '10', n: '1' }, { order_id: 'integer', n: 'integer' }, ['order_id', 'n']);
      const withLines = { ...other, tables: new Map([...other.tables, ['public.lines', table('lines', ['order_id', 'n'], [col('order_id', 'integer', { notNull: true }), col('n', 'integer', { notNull: true })])]]), foreignKeys: [...other.foreignKeys, fk('lines_order_fk', 'lines', ['order_id'], 'orders', ['id'])] };
      withLines.presentTargets = new Set(['orders_customer_fk\u00001']);
      const rekey = planRestore({ kind: 'cascade', entryId: order.id }, 'new-key', select([order, line]), withLines);
      expect(rekey.conflicts).toMatchObject([{ kind: 'key-exists', resolution: 'new-key' }]);
      expect(rekey.levels[0]![0]).toMatchObject({ newKey: true, columns: [{ name: 'customer_id' }, { name: 'total' }] });
      expect(rekey.levels[1]![0]!.followsNewKey).toEqual([{ columns: ['order_id'], refColumns: ['id'], parentEntryId: order.id }]);
    });

    it('cannot take a new key without a default on the key', () => {
      const c = planRestore({ kind: 'entry', entryId: customer.id }, 'new-key', select([customer]), facts({ rows: new Map([['public.customers', new Map([['1', { id: '1', name: 'Zed' }]])]]) }));
      expect(c.conflicts[0]).toMatchObject({ kind: 'key-exists', resolution: 'skipped' });
      expect(c.conflicts[0]!.detail).toContain('no default');
    });
  });

  describe('a parent that no longer exists and is not restored', () => {
    it('sets a nullable key to NULL, skips a row whose key is NOT NULL, and fails under fail', () => {
      const child = deleted('folders', { id: '5', parent_id: '99' }, FOLDER_TYPES, ['id']);
      const nullable = planRestore({ kind: 'entry', entryId: child.id }, 'skip', select([child]), facts());
      expect(nullable.conflicts).toMatchObject([{ kind: 'missing-parent', resolution: 'set-null', column: 'parent_id' }]);
      expect(columnsOf(nullable.levels[0]![0]!).find((c) => c.name === 'parent_id')!.value).toBeNull();

      const notNull = planRestore({ kind: 'entry', entryId: order.id }, 'skip', select([order]), facts());
      expect(notNull.conflicts).toMatchObject([{ kind: 'missing-parent', resolution: 'skipped' }]);
      expect(notNull.levels).toEqual([]);

      expect(planRestore({ kind: 'entry', entryId: order.id }, 'fail', select([order]), facts()).blocked).toBe(true);
    });

    it('is no conflict when the parent is in the database', () => {
      const plan = planRestore({ kind: 'entry', entryId: order.id }, 'fail', select([order]), facts({ presentTargets: new Set(['orders_customer_fk\u00001']) }));
      expect(plan.conflicts).toEqual([]);
      expect(labels(plan)).toEqual([['orders:10']]);
    });

    it('skips the children of a skipped parent in turn', () => {
      const f = facts({ rows: new Map([['public.customers', new Map([['1', { id: '1', name: 'other' }]])]]) });
      const plan = planRestore({ kind: 'cascade', entryId: customer.id }, 'skip', select([customer, order]), f);
      // The customer's key is taken by another row: the order still finds a customer 1.
      expect(labels(plan)).toEqual([['orders:10']]);
    });
  });

  it('leaves out a column that no longer exists or changed type, and reports it once per table', () => {
    const f = facts();
    f.tables.get('public.orders')!.columns.delete('total');
    f.tables.get('public.orders')!.columns.set('customer_id', col('customer_id', 'bigint', { notNull: true }));
    const other = deleted('orders', { id: '11', customer_id: '1', total: '2.00' }, ORDER_TYPES, ['id']);
    const plan = planRestore({ kind: 'tx', xid: 9 }, 'skip', select([customer, order, other]), f);
    expect(plan.conflicts.map((c) => [c.kind, c.column, c.resolution])).toEqual([
      ['type-changed', 'customer_id', 'column-left-out'],
      ['column-missing', 'total', 'column-left-out'],
      ['not-restorable', undefined, 'skipped'],
      ['not-restorable', undefined, 'skipped'],
    ]);
    // customer_id is NOT NULL without a default: those rows cannot go back.
    expect(labels(plan)).toEqual([['customers:1']]);
  });

  it('undoes a SET NULL only where the key is still NULL, and reverts an update unless it changed again', () => {
    const note = { ...deleted('notes', { id: '5', order_id: '10' }, { id: 'integer', order_id: 'integer' }, ['id']), op: 'update' as const, after: { id: '5', order_id: null }, changed: ['order_id'] };
    const f = facts({ tables: new Map([...facts().tables, ['public.notes', table('notes', ['id'], [col('id', 'integer'), col('order_id', 'integer')])]]) });
    const link = { constraint: 'notes_order_fk', parentEntryId: order.id, parentKey: { id: '10' } } as never;
    f.rows.set('public.notes', new Map([['5', { id: '5', order_id: null }]]));
    const plan = planRestore({ kind: 'cascade', entryId: customer.id }, 'fail', { deletes: [customer, order], nullings: [{ entry: note, link }], reverts: [] }, f);
    expect(plan.updates).toMatchObject([{ why: 'set-null', set: [{ name: 'order_id', value: '10' }], where: [{ name: 'id', value: '5' }], expect: [{ name: 'order_id', value: null }] }]);

    f.rows.set('public.notes', new Map([['5', { id: '5', order_id: '20' }]]));
    const changed = planRestore({ kind: 'revert', entryId: note.id }, 'skip', { deletes: [], nullings: [], reverts: [note] }, f);
    expect(changed.updates).toEqual([]);
    expect(changed.conflicts).toMatchObject([{ kind: 'changed-since', resolution: 'skipped' }]);
  });

  it('never puts back a masked value', () => {
    const plan = planRestore({ kind: 'entry', entryId: customer.id }, 'skip', select([{ ...customer, before: { id: '1', name: '[redacted]' } }]), facts({ maskedColumns: new Set(['public.customers.name']) }));
    expect(plan.conflicts).toMatchObject([{ kind: 'masked', column: 'name', resolution: 'column-left-out' }]);
    expect(plan.levels[0]![0]!.columns.map((c) => c.name)).toEqual(['id']);
  });
});
