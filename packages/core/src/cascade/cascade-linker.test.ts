import { describe, expect, it } from 'vitest';
import type { ChangeEvent, RowImage } from '../change-event.types.js';
import { CascadeLinker } from './cascade-linker.js';
import type { ForeignKey, ForeignKeyAction } from './foreign-key.types.js';

const fk = (name: string, table: string, columns: string[], refTable: string, refColumns: string[], onDelete: ForeignKeyAction = 'cascade'): ForeignKey => ({
  name, schema: 'public', table, columns, refSchema: 'public', refTable, refColumns, onDelete,
});

function tx(lsn: string, xid = 700) {
  let seq = 0;
  const hex = lsn.replace('/', '').padStart(16, '0');
  const event = (op: 'delete' | 'update', table: string, before: RowImage, after: RowImage | null = null): ChangeEvent => {
    const s = seq++;
    return {
      id: `${hex}-${s}`, op, schema: 'public', table, keyKind: 'primary-key', pk: { id: before.id ?? null }, columns: [],
      before, after, changed: [], tx: { xid, lsn, commitTime: '2026-01-01T00:00:00.000000Z', seq: s }, actor: {},
    };
  };
  return {
    del: (table: string, before: RowImage) => event('delete', table, before),
    upd: (table: string, before: RowImage, after: RowImage) => event('update', table, before, after),
  };
}

describe('CascadeLinker', () => {
  const keys = [
    fk('orders_customer_fk', 'orders', ['customer_id'], 'customers', ['id']),
    fk('lines_order_fk', 'order_lines', ['order_id'], 'orders', ['id']),
    fk('notes_order_fk', 'notes', ['order_id'], 'orders', ['id'], 'set-null'),
    fk('audit_order_fk', 'kept', ['order_id'], 'orders', ['id'], 'restrict'),
  ];

  it('links a three-level chain to each parent and to the root', () => {
    const linker = new CascadeLinker(keys);
    const t = tx('0/100');
    const events = [
      t.del('customers', { id: '1', name: 'Ann' }),
      t.del('orders', { id: '10', customer_id: '1' }),
      t.del('orders', { id: '11', customer_id: '1' }),
      t.del('order_lines', { id: '100', order_id: '10' }),
      t.del('order_lines', { id: '101', order_id: '11' }),
    ];
    const links = linker.link(events);
    expect(links.map((l) => [l.entryId, l.parentEntryId, l.rootEntryId, l.depth, l.constraint])).toEqual([
      ['0000000000000100-1', '0000000000000100-0', '0000000000000100-0', 1, 'orders_customer_fk'],
      ['0000000000000100-2', '0000000000000100-0', '0000000000000100-0', 1, 'orders_customer_fk'],
      ['0000000000000100-3', '0000000000000100-1', '0000000000000100-0', 2, 'lines_order_fk'],
      ['0000000000000100-4', '0000000000000100-2', '0000000000000100-0', 2, 'lines_order_fk'],
    ]);
    expect(links[2]).toMatchObject({ parentTable: 'orders', parentKey: { id: '10' }, rootTable: 'customers', kind: 'cascade', xid: 700, lsn: '0/100', seq: 3 });
  });

  it('follows a transaction across calls, as batches arrive', () => {
    const linker = new CascadeLinker(keys);
    const t = tx('0/200');
    expect(linker.link([t.del('customers', { id: '1' })])).toEqual([]);
    expect(linker.link([t.del('orders', { id: '10', customer_id: '1' })])).toHaveLength(1);
    expect(linker.link([t.del('order_lines', { id: '1', order_id: '10' })])[0]!.rootEntryId).toBe('0000000000000200-0');
  });

  it('forgets a transaction when the next one starts', () => {
    const linker = new CascadeLinker(keys);
    linker.link([tx('0/300').del('customers', { id: '1' })]);
    expect(linker.trackedKeys).toBe(1);
    expect(linker.link([tx('0/400', 701).del('orders', { id: '10', customer_id: '1' })])).toEqual([]);
  });

  it('links SET NULL updates caused by a parent delete, and not other updates', () => {
    const linker = new CascadeLinker(keys);
    const t = tx('0/500');
    const links = linker.link([
      t.del('customers', { id: '1' }),
      t.del('orders', { id: '10', customer_id: '1' }),
      t.upd('notes', { id: '5', order_id: '10', body: 'x' }, { id: '5', order_id: null, body: 'x' }),
      t.upd('notes', { id: '6', order_id: '99', body: 'x' }, { id: '6', order_id: null, body: 'x' }),
      t.upd('notes', { id: '7', order_id: '10', body: 'x' }, { id: '7', order_id: '10', body: 'y' }),
    ]);
    expect(links.map((l) => [l.entryId, l.kind, l.parentEntryId, l.rootEntryId, l.depth])).toEqual([
      ['0000000000000500-1', 'cascade', '0000000000000500-0', '0000000000000500-0', 1],
      ['0000000000000500-2', 'set-null', '0000000000000500-1', '0000000000000500-0', 2],
    ]);
  });

  it('leaves deletes without a foreign-key path unlinked (grouped by xid only)', () => {
    const linker = new CascadeLinker(keys);
    const t = tx('0/600');
    expect(linker.link([t.del('customers', { id: '1' }), t.del('orders', { id: '10', customer_id: '2' }), t.del('kept', { id: '1', order_id: '10' })])).toEqual([]);
  });

  it('links a self-referencing tree level by level', () => {
    const linker = new CascadeLinker([fk('parent_fk', 'folders', ['parent_id'], 'folders', ['id'])]);
    const t = tx('0/700');
    const links = linker.link([
      t.del('folders', { id: '1', parent_id: null }),
      t.del('folders', { id: '2', parent_id: '1' }),
      t.del('folders', { id: '3', parent_id: '1' }),
      t.del('folders', { id: '4', parent_id: '2' }),
    ]);
    expect(links.map((l) => [l.entryId.slice(-1), l.parentEntryId.slice(-1), l.rootEntryId.slice(-1), l.depth])).toEqual([
      ['1', '0', '0', 1],
      ['2', '0', '0', 1],
      ['3', '1', '0', 2],
    ]);
  });

  it('matches composite keys on every column, in the constraint order', () => {
    const linker = new CascadeLinker([fk('shipment_fk', 'shipments', ['wh', 'bin'], 'bins', ['warehouse', 'code'])]);
    const t = tx('0/800');
    const links = linker.link([
      t.del('bins', { warehouse: 'A', code: '7' }),
      t.del('shipments', { id: '1', wh: 'A', bin: '7' }),
      t.del('shipments', { id: '2', wh: '7', bin: 'A' }),
      t.del('shipments', { id: '3', wh: 'A', bin: null }),
    ]);
    expect(links).toHaveLength(1);
    expect(links[0]).toMatchObject({ entryId: '0000000000000800-1', parentKey: { warehouse: 'A', code: '7' }, parentTable: 'bins' });
  });

  it('keeps only keys of referenced tables, and stops remembering past its bound', () => {
    const linker = new CascadeLinker(keys, { maxTrackedKeys: 2 });
    const t = tx('0/900');
    linker.link([t.del('customers', { id: '1' }), t.del('order_lines', { id: '1', order_id: '5' })]);
    expect(linker.trackedKeys).toBe(1);
    linker.link([t.del('orders', { id: '10', customer_id: '1' }), t.del('orders', { id: '11', customer_id: '1' })]);
    expect(linker.trackedKeys).toBe(2);
    expect(linker.overflowed).toBe(true);
    // The child of the forgotten order is not linked: it stays grouped by xid.
    expect(linker.link([t.del('order_lines', { id: '2', order_id: '11' })])).toEqual([]);
  });
});
