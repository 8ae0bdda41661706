import { describe, expect, it } from 'vitest';
import { WalauditError, type CascadeLink, type ChangeEvent, type ForeignKey } from '@walaudit/core';
import { MemoryAuditStore } from '../../../test/support/memory-audit-store.js';
import { linkedEntries } from '../../../test/support/linked-entries.js';
import { MemoryCascadeLinks } from '../../../test/support/memory-cascade-links.js';
import { audited, transactionEvents, type RowChange } from '../../../test/support/change-events.js';
import { createCorrelator, type CorrelatorDeps } from './correlator.js';

// The correlator against in-memory link and entry stores, with the foreign keys handed in (the
// catalog query and ClickHouse's cascade_links are covered by the integration tests).

const fk = (name: string, table: string, columns: string[], refTable: string, refColumns: string[], onDelete: ForeignKey['onDelete']): ForeignKey => ({
  name, schema: 'public', table, columns, refSchema: 'public', refTable, refColumns, onDelete,
});

/** customers <- orders <- order_lines (cascade), notes -> orders (set null), tags -> orders (no action). */
const FOREIGN_KEYS: ForeignKey[] = [
  fk('orders_customer_fk', 'orders', ['customer_id'], 'customers', ['id'], 'cascade'),
  fk('lines_order_fk', 'order_lines', ['order_id'], 'orders', ['id'], 'cascade'),
  fk('notes_order_fk', 'notes', ['order_id'], 'orders', ['id'], 'set-null'),
  fk('tags_order_fk', 'tags', ['order_id'], 'orders', ['id'], 'no-action'),
];

/** What `DELETE FROM customers WHERE id = 1` writes to the WAL, in Postgres's order: the parent first. */
const CUSTOMER_DELETE: RowChange[] = [
  { op: 'delete', table: 'customers', before: { id: '1', name: 'Ann' } },
  { op: 'delete', table: 'orders', before: { id: '10', customer_id: '1' } },
  { op: 'delete', table: 'order_lines', key: ['order_id', 'line'], before: { order_id: '10', line: '1' } },
  { op: 'delete', table: 'order_lines', key: ['order_id', 'line'], before: { order_id: '10', line: '2' } },
  { op: 'update', table: 'notes', before: { id: '5', order_id: '10', body: 'call first' }, after: { id: '5', order_id: null, body: 'call first' } },
  // Not caused by the delete: another customer's order, and a note set to NULL by hand.
  { op: 'delete', table: 'orders', before: { id: '20', customer_id: '2' } },
  { op: 'update', table: 'notes', before: { id: '7', order_id: '30', body: 'x' }, after: { id: '7', order_id: null, body: 'x' } },
];

const customerDelete = (n = 1) => transactionEvents({ lsn: n * 0x10000, xid: 900 + n }, CUSTOMER_DELETE);

/** The entry of an ALTER TABLE orders (a new column): the reader writes one before the table's next row. */
const schemaChange = (lsn: number): ChangeEvent[] =>
  transactionEvents({ lsn }, [{ op: 'insert', table: 'orders', after: { id: '1', customer_id: '1' } }]).map((event) => ({
    ...event, op: 'schema', pk: null, before: null, after: null, schemaChange: { oldColumns: null, newColumns: event.columns },
  }));

function start(more: Partial<CorrelatorDeps> = {}) {
  const audit = new MemoryAuditStore();
  const links = new MemoryCascadeLinks(audit, { pageRows: 2 });
  const warnings: string[] = [];
  const linked: number[] = [];
  const correlator = createCorrelator({
    links,
    entries: links,
    loadForeignKeys: async () => FOREIGN_KEYS,
    refreshIntervalMs: 60_000,
    warn: (line) => warnings.push(line),
    onLinked: (count) => linked.push(count),
    ...more,
  });
  return { audit, links, correlator, warnings, linked };
}

/** A link as `walaudit log --caused-by` reads it: caused row <- parent row, root, depth. */
const describeLink = (link: CascadeLink) =>
  `${link.kind} ${link.table} ${JSON.stringify(link.key)} <- ${link.parentTable} ${JSON.stringify(link.parentKey)} (${link.constraint}, root ${link.rootTable} ${link.rootEntryId}, depth ${link.depth})`;

/** Stores events as the writer would, without the correlator seeing them (a crash in between). */
async function storeUnobserved(audit: MemoryAuditStore, events: readonly ChangeEvent[]): Promise<void> {
  const heads = new Map((await audit.chainHeads()).map((head) => [head.chain, head.hash]));
  const { entries, bodies } = linkedEntries(heads, audited(events));
  await audit.insertEntries(entries, bodies);
}

describe('correlator: cascade links', () => {
  it('links each row Postgres removed to the delete that caused it, with the root and the depth', async () => {
    const { correlator, links, linked } = start();
    await correlator.start();
    const events = customerDelete();
    await correlator.observe(audited(events));

    const root = events[0]!.id;
    expect(links.links().map(describeLink)).toEqual([
      `cascade orders {"id":"10"} <- customers {"id":"1"} (orders_customer_fk, root customers ${root}, depth 1)`,
      `cascade order_lines {"order_id":"10","line":"1"} <- orders {"id":"10"} (lines_order_fk, root customers ${root}, depth 2)`,
      `cascade order_lines {"order_id":"10","line":"2"} <- orders {"id":"10"} (lines_order_fk, root customers ${root}, depth 2)`,
      `set-null notes {"id":"5"} <- orders {"id":"10"} (notes_order_fk, root customers ${root}, depth 2)`,
    ]);
    expect(links.links().map((link) => [link.entryId, link.parentEntryId, link.xid, link.lsn, link.seq])).toEqual([
      [events[1]!.id, events[0]!.id, 901, '0/10000', 1],
      [events[2]!.id, events[1]!.id, 901, '0/10000', 2],
      [events[3]!.id, events[1]!.id, 901, '0/10000', 3],
      [events[4]!.id, events[1]!.id, 901, '0/10000', 4],
    ]);
    expect(linked).toEqual([4]);
    expect(correlator.foreignKeys).toEqual(FOREIGN_KEYS);
  });

  it('links a child to its parent across batches of one transaction, and not across transactions', async () => {
    const { correlator, links } = start();
    await correlator.start();
    const events = customerDelete();
    await correlator.observe(audited(events.slice(0, 1)));
    await correlator.observe(audited(events.slice(1, 3)));
    expect(links.links().map((link) => [link.table, link.parentEntryId])).toEqual([
      ['orders', events[0]!.id],
      ['order_lines', events[1]!.id],
    ]);

    // The same order deleted in a later transaction (restored in between): its own root.
    const later = transactionEvents({ lsn: 0x20000, xid: 950 }, [{ op: 'delete', table: 'order_lines', key: ['order_id', 'line'], before: { order_id: '10', line: '1' } }]);
    await correlator.observe(audited(later));
    expect(await links.linkOf(later[0]!.id)).toBeNull();
  });

  it('does not link a replayed batch twice', async () => {
    const { correlator, links } = start();
    await correlator.start();
    await correlator.observe(audited(customerDelete()));
    await correlator.observe(audited(customerDelete()));
    expect(links.inserted).toHaveLength(4);
  });

  it('fails the batch when the links cannot be stored, so the writer fails the write', async () => {
    const { correlator, links } = start();
    await correlator.start();
    links.failInserts(new WalauditError('STORE_UNREACHABLE', 'ClickHouse at memory is not reachable', { retriable: true }));
    await expect(correlator.observe(audited(customerDelete()))).rejects.toMatchObject({ code: 'STORE_UNREACHABLE' });
    expect(links.links()).toEqual([]);
  });
});

describe('correlator: foreign keys', () => {
  it('reads the foreign keys again after a schema change, and links with the old ones when that fails', async () => {
    let fail = false;
    let loads = 0;
    const { correlator, links, warnings } = start({
      loadForeignKeys: async () => {
        loads++;
        if (fail) throw new WalauditError('PG_UNREACHABLE', 'cannot reach Postgres at localhost:5432/shop');
        return FOREIGN_KEYS;
      },
    });
    await correlator.start();
    await correlator.observe(audited(schemaChange(0x8000)));
    expect(loads).toBe(2);

    fail = true;
    await correlator.observe(audited([...schemaChange(0x9000), ...customerDelete()]));
    expect(warnings).toEqual(['cannot read the foreign keys again, linking with the previous ones: PG_UNREACHABLE: cannot reach Postgres at localhost:5432/shop']);
    expect(links.links()).toHaveLength(4);
  });

  it('warns when a transaction deletes more parent rows than it may remember, and leaves the rest unlinked', async () => {
    const { correlator, links, warnings } = start({ maxTrackedKeys: 1 });
    await correlator.start();
    const events = transactionEvents({ lsn: 0x10000, xid: 77 }, [
      { op: 'delete', table: 'customers', before: { id: '1' } },
      { op: 'delete', table: 'customers', before: { id: '2' } },
      { op: 'delete', table: 'orders', before: { id: '10', customer_id: '1' } },
      { op: 'delete', table: 'orders', before: { id: '20', customer_id: '2' } },
    ]);
    await correlator.observe(audited(events));
    expect(links.links().map((link) => link.entryId)).toEqual([events[2]!.id]);
    expect(warnings).toEqual(['transaction 77 deleted more parent rows than cascade.maxTrackedKeys: later rows of it are not linked to their parent (they stay grouped by xid)']);
  });
});

describe('correlator: recovery after a restart', () => {
  it('links again what was stored but not linked, from the given position, in pages', async () => {
    const { correlator, links, audit } = start();
    await correlator.start();
    const before = transactionEvents({ lsn: 0x8000 }, [{ op: 'delete', table: 'orders', before: { id: '3', customer_id: '9' } }]);
    await storeUnobserved(audit, [...before, ...customerDelete()]);

    expect(await correlator.recover(0x10000n)).toBe(4);
    expect(links.links().map((link) => link.entryId)).toEqual(customerDelete().slice(1, 5).map((event) => event.id));

    // The writer then hands over what the slot re-sends after the recovery: nothing is linked twice.
    await correlator.observe(audited(customerDelete()));
    expect(links.inserted).toHaveLength(4);
  });

  it('reads only the entries of the partition it resumes', async () => {
    const { correlator, links, audit } = start();
    await correlator.start();
    const events = customerDelete();
    const heads = new Map<number, string>();
    const { entries, bodies } = linkedEntries(heads, audited(events), 3);
    await audit.insertEntries(entries, bodies);
    expect(await correlator.recover(0n, { partition: 1 })).toBe(0);
    expect(await correlator.recover(0n, { partition: 3 })).toBe(4);
    expect(links.links()).toHaveLength(4);
  });
});
