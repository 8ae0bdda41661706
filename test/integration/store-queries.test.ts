import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH, type Actor, type Alert, type AuditEntry, type CascadeLink, type ChangeEvent } from '@walaudit/core';
import type { ClickHouseStores } from '@walaudit/clickhouse';
import { audited, transactionEvents, type RowChange } from '../support/change-events.js';
import { linkedEntries } from '../support/linked-entries.js';
import { embeddedStores } from '../support/pipeline-harness.js';

// One embedded store (chDB: one data directory per process), one database per scenario.
const opened: ClickHouseStores[] = [];
afterAll(async () => {
  for (const stores of opened) await stores.close();
});

async function storeWith(database: string, transactions: ChangeEvent[][], replayed = 0, keepCopies = false): Promise<ClickHouseStores> {
  const stores = await embeddedStores(database);
  opened.push(stores);
  let heads = new Map<number, string>();
  const stored: ReturnType<typeof linkedEntries>[] = [];
  for (const events of transactions) {
    // Kept forever: a retention would let a TTL merge purge these past commit times.
    const linked = linkedEntries(heads, audited(events, 0));
    heads = linked.heads;
    stored.push(linked);
    await stores.audit.insertEntries(linked.entries, linked.bodies);
  }
  // A replay after a crash: the first transactions stored again, the very same entries, parts not
  // merged (with keepCopies, merges are stopped so that every copy stays a row).
  if (keepCopies) await stores.audit.command(`SYSTEM STOP MERGES ${stores.audit.table('audit_log')}`);
  for (const linked of stored.slice(0, replayed)) await stores.audit.insertEntries(linked.entries, linked.bodies);
  return stores;
}

const alice: Actor = { db: { user: 'alice', ip: '10.0.0.5', applicationName: 'psql', statement: 'INSERT ...' } };
const bob: Actor = { app: { user: 'bob@example.com', ip: '192.168.1.9' }, db: { user: 'app', ip: null, applicationName: 'api', statement: 'UPDATE ...' } };
const restorer: Actor = {
  app: { user: 'walaudit-restore', requestedBy: 'dba@example.com', reason: 'restore entry 0000000000004000-0', restoreJob: 'job-7' },
  db: { user: 'walaudit', ip: null, applicationName: 'walaudit-restore', statement: 'INSERT ...' },
};
const tricky = 'Zoë "quoted" \\back\\slash';

const row1 = { id: '1', email: 'a@x.io', note: 'hello world' };
const tx = (lsn: number, xid: number, commitTime: string, actor: Actor, changes: RowChange[]) => transactionEvents({ lsn, xid, commitTime, actor }, changes);
const history = [
  tx(0x1000, 100, '2026-03-01T10:00:00.000000Z', alice, [
    { op: 'insert', table: 'users', after: row1 },
    { op: 'insert', table: 'users', after: { id: '11', email: 'eleven@x.io', note: 'hello world' } },
    { op: 'insert', table: 'invoices', schema: 'billing', after: { id: '10', user_id: '1' } },
  ]),
  tx(0x2000, 101, '2026-03-01T11:30:00.000000Z', bob, [{ op: 'update', table: 'users', before: row1, after: { ...row1, email: 'b@x.io' } }]),
  tx(0x3000, 102, '2026-03-02T09:00:00.000000Z', bob, [{ op: 'update', table: 'users', before: { ...row1, email: 'b@x.io' }, after: { ...row1, email: 'b@x.io', note: tricky } }]),
  tx(0x4000, 103, '2026-03-03T08:00:00.000000Z', bob, [
    { op: 'delete', table: 'users', before: { ...row1, email: 'b@x.io', note: tricky } },
    { op: 'delete', table: 'invoices', schema: 'billing', before: { id: '10', user_id: '1' } },
  ]),
  tx(0x5000, 104, '2026-03-04T12:00:00.000000Z', restorer, [{ op: 'insert', table: 'users', after: { ...row1, email: 'b@x.io', note: tricky } }]),
];
const idOf = (lsn: number, seq: number) => `${lsn.toString(16).toUpperCase().padStart(16, '0')}-${seq}`;

describe('store queries on a row\'s life', () => {
  let stores: ClickHouseStores;
  beforeAll(async () => {
    stores = await storeWith('queries_life', history, 2);
    const cascade: CascadeLink = {
      entryId: idOf(0x4000, 1), kind: 'cascade', schema: 'billing', table: 'invoices', key: { id: '10' }, xid: 103, lsn: '0/4000', seq: 1,
      constraint: 'invoices_user_id_fkey', parentEntryId: idOf(0x4000, 0), parentSchema: 'public', parentTable: 'users', parentKey: { id: '1' },
      rootEntryId: idOf(0x4000, 0), rootSchema: 'public', rootTable: 'users', depth: 1,
    };
    await stores.cascadeLinks.insertLinks([cascade]);
  });

  const ids = async (filter: Parameters<ClickHouseStores['queries']['searchEntries']>[0]['filter']) =>
    (await stores.queries.searchEntries({ filter, limit: 100 })).entries.map((entry) => entry.id);

  it('filters by each member, newest first, a replayed copy once', async () => {
    expect(await ids({})).toEqual([idOf(0x5000, 0), idOf(0x4000, 1), idOf(0x4000, 0), idOf(0x3000, 0), idOf(0x2000, 0), idOf(0x1000, 2), idOf(0x1000, 1), idOf(0x1000, 0)]);
    expect(await ids({ tables: ['billing.invoices'] })).toEqual([idOf(0x4000, 1), idOf(0x1000, 2)]);
    expect(await ids({ tables: ['invoices', 'public.users'], ops: ['delete'] })).toEqual([idOf(0x4000, 1), idOf(0x4000, 0)]);
    expect(await ids({ tables: ['other.users'] })).toEqual([]);
    expect(await ids({ ops: ['update'] })).toEqual([idOf(0x3000, 0), idOf(0x2000, 0)]);
    expect(await ids({ actor: 'bob@example.com' })).toEqual([idOf(0x4000, 1), idOf(0x4000, 0), idOf(0x3000, 0), idOf(0x2000, 0)]);
    expect(await ids({ actor: 'alice' })).toEqual([idOf(0x1000, 2), idOf(0x1000, 1), idOf(0x1000, 0)]);
    expect(await ids({ clientIp: '10.0.0.5' })).toEqual([idOf(0x1000, 2), idOf(0x1000, 1), idOf(0x1000, 0)]);
    // No connection address (a Unix socket): the address the application sent.
    expect(await ids({ clientIp: '192.168.1.9' })).toHaveLength(4);
    expect(await ids({ application: 'walaudit-restore' })).toEqual([idOf(0x5000, 0)]);
    expect(await ids({ xid: 103 })).toEqual([idOf(0x4000, 1), idOf(0x4000, 0)]);
    expect(await ids({ from: '2026-03-01T11:30:00Z', to: '2026-03-03T08:00:00Z' })).toEqual([idOf(0x3000, 0), idOf(0x2000, 0)]);
    expect(await ids({ key: { table: 'users', pk: { id: '1' } } })).toEqual([idOf(0x5000, 0), idOf(0x4000, 0), idOf(0x3000, 0), idOf(0x2000, 0), idOf(0x1000, 0)]);
    expect(await ids({ key: { table: 'users', pk: { id: 11 as unknown as string } } })).toEqual([idOf(0x1000, 1)]);
  });

  it('finds text inside the row values, not in column names', async () => {
    expect(await ids({ text: 'zoë "QUOTED" \\back' })).toEqual([idOf(0x5000, 0), idOf(0x4000, 0), idOf(0x3000, 0)]);
    expect(await ids({ text: 'ELEVEN@' })).toEqual([idOf(0x1000, 1)]);
    expect(await ids({ text: 'email' })).toEqual([]);
  });

  it('counts matches once and refuses bad filters naming them', async () => {
    expect(await stores.queries.countMatches({})).toBe(8);
    expect((await stores.queries.searchEntries({ filter: { tables: ['users'] }, limit: 2, count: true })).total).toBe(6);
    await expect(stores.queries.searchEntries({ filter: { ops: ['remove' as never] }, limit: 10 })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/filter ops/) });
    await expect(stores.queries.searchEntries({ filter: { from: 'last tuesday' }, limit: 10 })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/filter from/) });
    await expect(stores.queries.searchEntries({ filter: {}, limit: 10, cursor: 'nope' })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/filter cursor/) });
    await expect(stores.queries.searchEntries({ filter: {}, limit: 0 })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('lists the five versions of a row inserted, updated twice, deleted and restored', async () => {
    const { versions, nextCursor } = await stores.queries.recordHistory('public.users', { id: '1' });
    expect(nextCursor).toBeUndefined();
    expect(versions.map((version) => version.kind)).toEqual(['created', 'updated', 'updated', 'deleted', 'restored']);
    expect(versions.map((version) => version.row?.email ?? null)).toEqual(['a@x.io', 'b@x.io', 'b@x.io', null, 'b@x.io']);
    expect(versions[1]!.changes).toEqual([{ column: 'email', before: 'a@x.io', after: 'b@x.io' }]);
    expect(versions[2]!.changes).toEqual([{ column: 'note', before: 'hello world', after: tricky }]);
    expect(versions[4]!.restore).toEqual({ requestedBy: 'dba@example.com', reason: 'restore entry 0000000000004000-0', job: 'job-7' });
    // Paged: two at a time, in order, nothing lost.
    const first = await stores.queries.recordHistory('users', { id: '1' }, { limit: 2 });
    const second = await stores.queries.recordHistory('users', { id: '1' }, { limit: 2, cursor: first.nextCursor });
    const third = await stores.queries.recordHistory('users', { id: '1' }, { limit: 2, cursor: second.nextCursor });
    expect([...first.versions, ...second.versions, ...third.versions].map((version) => version.entry.id)).toEqual(versions.map((version) => version.entry.id));
    expect(third.nextCursor).toBeUndefined();
    expect((await stores.queries.recordHistory('users', { id: '404' })).versions).toEqual([]);
  });

  it('shows one entry with its diff, cascade and chain', async () => {
    const update = await stores.queries.entryDetail(idOf(0x2000, 0));
    expect(update).toMatchObject({
      changes: [{ column: 'email', before: 'a@x.io', after: 'b@x.io' }],
      cascadeParent: null,
      cascadeChildCount: 0,
      chain: { partition: 0, chain: 0, hashOk: true, link: 'linked', previousId: idOf(0x1000, 2) },
    });
    const root = await stores.queries.entryDetail(idOf(0x4000, 0));
    expect(root!.cascadeChildren.map((link) => link.entryId)).toEqual([idOf(0x4000, 1)]);
    expect(root!.cascadeChildCount).toBe(1);
    const child = await stores.queries.entryDetail(idOf(0x4000, 1));
    expect(child!.cascadeParent).toMatchObject({ parentEntryId: idOf(0x4000, 0), constraint: 'invoices_user_id_fkey' });
    const first = await stores.queries.entryDetail(idOf(0x1000, 0));
    expect(first!.entry.prevHash).toBe(GENESIS_HASH);
    expect(first!.chain).toMatchObject({ hashOk: true, link: 'start' });
    expect(await stores.queries.entryDetail(idOf(0x9000, 0))).toBeNull();
    await expect(stores.queries.entryDetail('16/B374D848')).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('sums up a transaction', async () => {
    const summary = await stores.queries.transaction(103);
    expect(summary).toMatchObject({
      xid: 103,
      lsn: '0/4000',
      commitTime: '2026-03-03T08:00:00.000000Z',
      actor: bob,
      entryCount: 2,
      tables: ['public.users', 'billing.invoices'],
      counts: [{ table: 'public.users', op: 'delete', entries: 1 }, { table: 'billing.invoices', op: 'delete', entries: 1 }],
      truncated: false,
    });
    expect(summary!.entries.map((entry) => entry.id)).toEqual([idOf(0x4000, 0), idOf(0x4000, 1)]);
    expect((await stores.queries.transaction(100, { limit: 2 }))).toMatchObject({ entryCount: 3, truncated: true });
    expect(await stores.queries.transaction(999)).toBeNull();
  });

  it('counts by time bucket and group, and ranks deleters', async () => {
    const range = { from: '2026-03-01T00:00:00Z', to: '2026-04-01T00:00:00Z' };
    const byDay = await stores.queries.stats({ bucket: 'day', groupBy: 'op', ...range });
    // The replayed copies of the first two transactions are not merged yet: stats count rows.
    const merged = byDay.filter((point) => point.bucket !== '2026-03-01T00:00:00Z');
    expect(merged).toEqual([
      { bucket: '2026-03-02T00:00:00Z', group: 'update', entries: 1 },
      { bucket: '2026-03-03T00:00:00Z', group: 'delete', entries: 2 },
      { bucket: '2026-03-04T00:00:00Z', group: 'insert', entries: 1 },
    ]);
    await stores.audit.command(`OPTIMIZE TABLE ${stores.audit.table('audit_log')} FINAL`);
    expect(await stores.queries.stats({ bucket: 'hour', groupBy: 'actor', from: '2026-03-01T00:00:00Z', to: '2026-03-02T00:00:00Z' })).toEqual([
      { bucket: '2026-03-01T10:00:00Z', group: 'alice', entries: 3 },
      { bucket: '2026-03-01T11:00:00Z', group: 'bob@example.com', entries: 1 },
    ]);
    expect(await stores.queries.stats({ bucket: 'week', groupBy: 'table', ...range })).toEqual([
      { bucket: '2026-02-23T00:00:00Z', group: 'billing.invoices', entries: 1 },
      // 2026-03-01 is a Sunday: its entries are in the week of Monday 23 February.
      { bucket: '2026-02-23T00:00:00Z', group: 'public.users', entries: 3 },
      { bucket: '2026-03-02T00:00:00Z', group: 'billing.invoices', entries: 1 },
      { bucket: '2026-03-02T00:00:00Z', group: 'public.users', entries: 3 },
    ]);
    expect(await stores.queries.stats({ bucket: 'month', groupBy: 'op', ...range, filter: { tables: ['users'] } })).toEqual([
      { bucket: '2026-03-01T00:00:00Z', group: 'delete', entries: 1 },
      { bucket: '2026-03-01T00:00:00Z', group: 'insert', entries: 3 },
      { bucket: '2026-03-01T00:00:00Z', group: 'update', entries: 2 },
    ]);
    expect(await stores.queries.topDeleters(range, 10)).toEqual([{ actor: 'bob@example.com', deletes: 2, truncates: 0 }]);
    await expect(stores.queries.stats({ bucket: 'fortnight' as never, groupBy: 'op', ...range })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('checks an entry\'s own hash against its stored body', async () => {
    await stores.audit.command(
      `ALTER TABLE ${stores.audit.table('audit_log')} UPDATE event = replace(event, 'eleven@x.io', 'twelve@x.io') WHERE id = '${idOf(0x1000, 1)}' SETTINGS mutations_sync = 2`,
    );
    expect((await stores.queries.entryDetail(idOf(0x1000, 1)))!.chain).toMatchObject({ hashOk: false, link: 'linked' });
    expect((await stores.queries.entryDetail(idOf(0x1000, 2)))!.chain).toMatchObject({ hashOk: true, link: 'linked' });
  });

  it('counts open alerts by kind', async () => {
    expect(await stores.alerts.openAlertCounts()).toEqual({});
    const alert = (id: string, kind: Alert['kind'], version = 1, acknowledged = false): Alert => ({
      id, kind, version, status: acknowledged ? 'acknowledged' : 'open',
      actor: { name: 'bob@example.com', appUser: 'bob@example.com', dbUser: 'app', ip: null, applicationName: 'api' },
      tables: [{ table: 'public.users', rows: 1, allRows: false }], rows: 1, allRows: false, window: null, xid: 103, xids: [103], transactions: 1,
      firstCommitTime: '2026-03-03T08:00:00.000000Z', lastCommitTime: '2026-03-03T08:00:00.000000Z', firstEntryId: idOf(0x4000, 0), lastEntryId: idOf(0x4000, 0),
      keys: [], raisedAt: '2026-03-03T08:00:01.000Z', updatedAt: `2026-03-03T08:00:0${version}.000Z`,
      acknowledgement: acknowledged ? { by: 'oncall', at: '2026-03-03T09:00:00.000Z', note: '' } : null,
    });
    await stores.alerts.saveAlerts([alert('a1', 'critical-table'), alert('a2', 'critical-table'), alert('a3', 'bulk-delete'), alert('a3', 'bulk-delete', 2)]);
    expect(await stores.alerts.openAlertCounts()).toEqual({ 'critical-table': 2, 'bulk-delete': 1 });
    await stores.alerts.saveAlerts([alert('a1', 'critical-table', 2, true)]);
    expect(await stores.alerts.openAlertCounts()).toEqual({ 'critical-table': 1, 'bulk-delete': 1 });
  });
});

describe('store queries over many entries', () => {
  const TRANSACTIONS = 26;
  const PER_TX = 500;
  let stores: ClickHouseStores;
  beforeAll(async () => {
    const transactions = Array.from({ length: TRANSACTIONS }, (_, t) =>
      transactionEvents(
        { lsn: 0x10000 * (t + 1), xid: 1000 + t, commitTime: `2026-05-${String(1 + (t % 28)).padStart(2, '0')}T10:00:00.000000Z`, actor: t % 2 === 0 ? alice : bob },
        Array.from({ length: PER_TX }, (_, i) => ({ op: (i % 3 === 0 ? 'delete' : 'insert') as 'delete' | 'insert', table: i % 2 === 0 ? 'orders' : 'items', before: { id: String(t * PER_TX + i), v: 'x' }, after: { id: String(t * PER_TX + i), v: 'x' } })),
      ),
    );
    stores = await storeWith('queries_many', transactions, 3, true);
  });

  const positionOf = (entry: AuditEntry) => [parseInt(entry.id.slice(0, 16), 16), entry.tx.seq] as const;

  it('pages through everything newest first with no duplicate and no gap', async () => {
    const seen: AuditEntry[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await stores.queries.searchEntries({ filter: {}, limit: 997, cursor, count: pages === 0 });
      if (pages === 0) expect(page.total).toBe(TRANSACTIONS * PER_TX);
      expect(page.entries.length).toBeLessThanOrEqual(997);
      seen.push(...page.entries);
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    // The replayed copies take room in their pages (rows until a merge removes them), never entries.
    expect(pages).toBe(Math.ceil((TRANSACTIONS * PER_TX + 3 * PER_TX) / 997));
    expect(new Set(seen.map((entry) => entry.id)).size).toBe(TRANSACTIONS * PER_TX);
    for (let i = 1; i < seen.length; i++) {
      const [lsn, seq] = positionOf(seen[i]!);
      const [prevLsn, prevSeq] = positionOf(seen[i - 1]!);
      expect(lsn < prevLsn || (lsn === prevLsn && seq < prevSeq)).toBe(true);
    }
  });

  it('pages a filter without gaps', async () => {
    const filter = { tables: ['orders'], ops: ['delete' as const], from: '2026-05-03T00:00:00Z', to: '2026-05-20T00:00:00Z' };
    const total = await stores.queries.countMatches(filter);
    const seen = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await stores.queries.searchEntries({ filter, limit: 50, cursor });
      for (const entry of page.entries) {
        expect(entry).toMatchObject({ table: 'orders', op: 'delete' });
        seen.add(entry.id);
      }
      cursor = page.nextCursor;
    } while (cursor);
    // Days 3 to 19: 17 transactions, each with 84 deletes of orders (i % 6 === 0 of 500).
    expect(total).toBe(17 * 84);
    expect(seen.size).toBe(total);
  });

  it('exports 10k+ entries in pages, newest first, each once', async () => {
    const pages: number[] = [];
    const ids = new Set<string>();
    let previous: readonly [number, number] | null = null;
    for await (const page of stores.queries.exportEntries({}, { pageRows: 2000 })) {
      pages.push(page.length);
      for (const entry of page) {
        ids.add(entry.id);
        const position = positionOf(entry);
        if (previous) expect(position[0] < previous[0] || (position[0] === previous[0] && position[1] < previous[1])).toBe(true);
        previous = position;
      }
    }
    expect(ids.size).toBe(TRANSACTIONS * PER_TX);
    expect(pages.every((size) => size <= 2000)).toBe(true);
    expect(pages).toHaveLength(Math.ceil((TRANSACTIONS * PER_TX + 3 * PER_TX) / 2000));
    expect(() => stores.queries.exportEntries({ ops: ['nope' as never] })).toThrow(/filter ops/);
  });
});
