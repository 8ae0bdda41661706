import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChainVerifier,
  GENESIS_HASH,
  chainHash,
  encodeEntryBody,
  eventId,
  formatLsn,
  positionOfEntryId,
  verifyAuditLog,
  type AuditEntry,
  type ChainProblem,
  type ChangeEvent,
  type ColumnDef,
} from '@walaudit/core';
import { createClickHouseStore, loadMigrations, type ClickHouseStore } from '@walaudit/clickhouse';
import { linkedEntries } from '../support/linked-entries.js';

// chDB binds one data directory per process, and vitest runs each integration file in its own
// process: every store below shares this directory, one database per test.
const dataDir = mkdtempSync(join(tmpdir(), 'walaudit-ch-store-'));
const opened: ClickHouseStore[] = [];

async function openStore(database: string): Promise<ClickHouseStore> {
  const store = createClickHouseStore({ dataDir, database });
  opened.push(store);
  await store.migrate();
  return store;
}

afterAll(async () => {
  for (const store of opened) await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const users: ColumnDef[] = [
  { name: 'id', type: 'int8', typeOid: 20 },
  { name: 'email', type: 'text', typeOid: 25 },
];
const usersWithPhone: ColumnDef[] = [...users, { name: 'phone', type: 'text', typeOid: 25 }];
const invoices: ColumnDef[] = [
  { name: 'id', type: 'int4', typeOid: 23 },
  { name: 'total', type: 'numeric', typeOid: 1700 },
];

function change(lsn: bigint, seq: number, xid: number, commitTime: string, rest: Partial<ChangeEvent>): ChangeEvent {
  return {
    id: eventId(lsn, seq),
    op: 'insert',
    schema: 'public',
    table: 'users',
    keyKind: 'primary-key',
    pk: null,
    columns: users,
    before: null,
    after: null,
    changed: [],
    tx: { xid, lsn: formatLsn(lsn), commitTime, seq },
    actor: {},
    ...rest,
  };
}

const psql = { db: { user: 'alice', ip: '10.0.0.5', applicationName: 'psql', statement: 'INSERT ...' } };
const api = { app: { user: 'bob@example.com', ip: '192.168.1.9' }, db: { user: 'app', ip: null, applicationName: 'api', statement: 'DELETE ...' } };
// Text that JSON escaping could alter: quotes, backslashes, U+2028, astral characters.
const tricky = 'Zoë "quoted" \\back\\slash \u2028 🚀';
const highLsn = (1n << 32n) + 0x10n; // 1/10: the high half matters

const events: ChangeEvent[] = [
  change(0x1000n, 0, 700, '2025-03-01T10:00:00.123456Z', { pk: { id: '1' }, after: { id: '1', email: 'a@x.io' }, actor: psql }),
  change(0x1000n, 1, 700, '2025-03-01T10:00:00.123456Z', { pk: { id: '2' }, after: { id: '2', email: tricky }, actor: psql }),
  change(0x2000n, 0, 701, '2025-03-02T08:30:00.000001Z', {
    op: 'delete',
    schema: 'billing',
    table: 'invoices',
    columns: invoices,
    pk: { id: '9' },
    before: { id: '9', total: '12.50' },
    actor: api,
  }),
  change(highLsn, 0, 702, '2025-03-03T00:00:00.5Z', {
    op: 'update',
    columns: usersWithPhone,
    pk: { id: '1' },
    before: { id: '1', email: 'a@x.io', phone: null },
    after: { id: '1', email: 'b@x.io', phone: null },
    changed: ['email'],
    actor: psql,
  }),
  change(highLsn, 1, 702, '2025-03-03T00:00:00.5Z', { op: 'action', columns: [], pk: { id: '1' }, action: { name: 'export' }, actor: api }),
];

function chain(list: readonly ChangeEvent[] = events, prevHash = GENESIS_HASH) {
  return linkedEntries(new Map([[0, prevHash]]), list.map((event) => ({ event, retentionDays: 0, critical: event.schema === 'billing' })));
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

async function verify(store: ClickHouseStore): Promise<ChainProblem | null> {
  const verifier = new ChainVerifier();
  for await (const link of store.readChain()) {
    const problem = verifier.push(link);
    if (problem) return problem;
  }
  return null;
}

async function rawCount(store: ClickHouseStore): Promise<number> {
  const [row] = await store.select<{ n: string }>(`SELECT toString(count()) AS n FROM ${store.table('audit_log')}`);
  return Number(row?.n);
}

describe('ClickHouse store on the embedded engine', () => {
  it('migrates idempotently and comments every column of every table', async () => {
    const store = await openStore('migrations');
    await store.migrate();
    await store.migrate();
    const applied = await store.select<{ version: number }>(`SELECT version FROM ${store.table('schema_migrations')} ORDER BY version`);
    // Each migration file applied once, whatever their number.
    expect(applied.map((row) => Number(row.version))).toEqual((await loadMigrations()).map((migration) => migration.version));
    expect(applied[0]).toEqual({ version: 1 });
    const uncommented = await store.select<{ name: string }>(
      `SELECT concat(table, '.', name) AS name FROM system.columns WHERE database = 'migrations' AND comment = ''`,
    );
    expect(uncommented).toEqual([]);
    expect(await store.countEntries()).toBe(0);
    expect(await store.chainHeads()).toEqual([]);
    expect(await collect(store.readChain())).toEqual([]);
  });

  describe('with entries', () => {
    let store: ClickHouseStore;
    const { entries, bodies } = chain();

    beforeAll(async () => {
      store = await openStore('roundtrip');
      await store.insertEntries(entries, bodies);
    });

    it('reads the chain back in log order, bodies byte for byte, and it verifies', async () => {
      const links = await collect(store.readChain());
      expect(links).toEqual(entries.map((entry, i) => ({ chain: 0, id: entry.id, prevHash: entry.prevHash, hash: entry.hash, body: bodies[i] })));
      expect(await verify(store)).toBeNull();
      expect(await store.countEntries()).toBe(entries.length);
    });

    it('reads the chain from a position on, that position included', async () => {
      const from = positionOfEntryId(entries[2]!.id);
      expect((await collect(store.readChain(from))).map((link) => link.id)).toEqual(entries.slice(2).map((entry) => entry.id));
      expect(await collect(store.readChain({ lsn: from.lsn, seq: from.seq + 1000 }))).toHaveLength(entries.length - 3);
    });

    it('inserts synchronously: a resolved insert is a written part', async () => {
      // chDB defaults to async_insert; the store turns it off for its session.
      expect(await store.select(`SELECT getSetting('async_insert') AS async_insert`)).toEqual([{ async_insert: false }]);
    });

    it('reports the chain head and the newest shape of each table', async () => {
      const last = entries.at(-1)!;
      expect(await store.chainHeads()).toEqual([{ chain: 0, id: last.id, lsn: highLsn, seq: 1, hash: last.hash }]);
      const shapes = await store.knownShapes();
      // The action entry (columns: []) is newest for public.users but says nothing about its shape.
      expect(Object.fromEntries(shapes)).toEqual({ 'public.users': usersWithPhone, 'billing.invoices': invoices });
    });

    it('queries the log newest first with filters', async () => {
      const ids = async (query: Parameters<ClickHouseStore['queryLog']>[0]) => (await store.queryLog(query)).map((e) => e.id);
      const all = await store.queryLog({ limit: 100 });
      expect(all).toEqual([...entries].reverse());
      expect(await ids({ limit: 2 })).toEqual([entries[4]!.id, entries[3]!.id]);
      expect(await ids({ table: 'public.users', limit: 100 })).toEqual([4, 3, 1, 0].map((i) => entries[i]!.id));
      expect(await ids({ table: 'invoices', limit: 100 })).toEqual([entries[2]!.id]);
      expect(await ids({ table: 'public.invoices', limit: 100 })).toEqual([]);
      expect(await ids({ op: 'delete', limit: 100 })).toEqual([entries[2]!.id]);
      expect(await ids({ since: '2025-03-02T08:30:00.000001Z', limit: 100 })).toEqual([4, 3, 2].map((i) => entries[i]!.id));
      expect(await ids({ since: '2025-03-02T08:30:00.000002Z', limit: 100 })).toEqual([4, 3].map((i) => entries[i]!.id));
      expect(await ids({ xid: 700, limit: 100 })).toEqual([1, 0].map((i) => entries[i]!.id));
      expect(await ids({ table: 'users', op: 'insert', xid: 700, limit: 1 })).toEqual([entries[1]!.id]);
      expect(await ids({ limit: 0 })).toEqual([]);
      await expect(store.queryLog({ since: 'yesterday-ish', limit: 1 })).rejects.toMatchObject({ code: 'STORE_QUERY_FAILED' });
    });

    it('derives the analyst columns from the hashed event', async () => {
      const rows = await store.select<Record<string, unknown>>(
        `SELECT id, toString(lsn) AS lsn_text, seq, op, schema_name, table_name, toString(xid) AS xid_text,
                toString(commit_time) AS commit_text, app_user, db_user, client_ip, application_name,
                pk, before, after, changed, retention_days, critical
         FROM ${store.table('audit_log')} ORDER BY lsn, seq`,
      );
      expect(rows[0]).toMatchObject({
        lsn_text: '4096',
        op: 'insert',
        schema_name: 'public',
        table_name: 'users',
        xid_text: '700',
        commit_text: '2025-03-01 10:00:00.123456',
        app_user: '',
        db_user: 'alice',
        client_ip: '10.0.0.5',
        application_name: 'psql',
        pk: '{"id":"1"}',
        before: 'null',
        critical: false,
      });
      // No database address (Unix socket): the address the application reported.
      expect(rows[2]).toMatchObject({ op: 'delete', schema_name: 'billing', app_user: 'bob@example.com', db_user: 'app', client_ip: '192.168.1.9', critical: true });
      expect(JSON.parse(String(rows[2]!.before))).toEqual({ id: '9', total: '12.50' });
      expect(rows[3]).toMatchObject({ lsn_text: highLsn.toString(), op: 'update', changed: ['email'], commit_text: '2025-03-03 00:00:00.500000' });
    });
  });

  it('collapses a replayed insert of the same entries when parts merge', async () => {
    const store = await openStore('replay');
    const { entries, bodies } = chain();
    await store.insertEntries(entries, bodies);
    await store.insertEntries(entries, bodies);
    expect(await rawCount(store)).toBe(2 * entries.length);
    expect(await store.countEntries()).toBe(entries.length);
    expect(await store.queryLog({ limit: 100 })).toHaveLength(entries.length);
    // Identical copies are harmless to verify.
    expect(await verify(store)).toBeNull();
    await store.command(`OPTIMIZE TABLE ${store.table('audit_log')} FINAL`);
    expect(await rawCount(store)).toBe(entries.length);
  });

  it('purges by retention and keeps retention 0, and long retention does not wrap around', async () => {
    const store = await openStore('retention');
    const old = '2020-01-01T00:00:00.000000Z';
    const list = [0, 1, 2, 3, 4].map((seq) => change(0x10n, seq, 1, old, { pk: { id: String(seq) } }));
    const retention = [1, 0, 36_500, 1, 0]; // 100 years past 2020 overflows a 32-bit DateTime
    const { entries, bodies } = linkedEntries(new Map(), list.map((event, i) => ({ event, retentionDays: retention[i]!, critical: false })));
    await store.insertEntries(entries, bodies);
    await store.command(`OPTIMIZE TABLE ${store.table('audit_log')} FINAL`);
    expect((await collect(store.readChain())).map((link) => link.id)).toEqual([entries[1]!.id, entries[2]!.id, entries[4]!.id]);
    // Each retention period is its own chain, so expiry leaves every remaining chain whole.
    const report = await verifyAuditLog(store);
    expect(report.problem).toBeNull();
    expect(report.chains.map(({ chain, entries: count }) => [chain, count])).toEqual([[0, 2], [36_500, 1]]);
    expect((await store.chainHeads()).map((head) => [head.chain, head.id]).sort()).toEqual([[0, entries[4]!.id], [36_500, entries[2]!.id]]);
  });

  it('keeps one set of chains per Kafka partition: heads, chain order and verify per (partition, retention)', async () => {
    const store = await openStore('partitions');
    const list = [0, 1, 2, 3, 4, 5].map((seq) => change(0x20n, seq, 1, '2026-01-01T00:00:00.000000Z', { pk: { id: String(seq) } }));
    // Standalone-style entries (partition 0) and two writers' partitions, interleaved in log order;
    // kept forever (a retention would let the TTL drop these 2026-01-01 rows at once).
    const zero = linkedEntries(new Map(), [list[0]!, list[3]!].map((event) => ({ event, retentionDays: 0, critical: false })));
    const two = linkedEntries(new Map(), [list[1]!, list[4]!].map((event) => ({ event, retentionDays: 0, critical: false })), 2);
    const five = linkedEntries(new Map(), [list[2]!, list[5]!].map((event) => ({ event, retentionDays: 0, critical: false })), 5);
    for (const linked of [zero, two, five]) await store.insertEntries(linked.entries, linked.bodies);
    const links = await collect(store.readChain());
    expect(links.map((link) => [link.id, link.partition ?? 0])).toEqual(list.map((event, i) => [event.id, [0, 2, 5][i % 3]]));
    const report = await verifyAuditLog(store);
    expect(report.problem).toBeNull();
    expect(report.chains.map((chain) => [chain.partition ?? 0, chain.chain, chain.entries])).toEqual([[0, 0, 2], [2, 0, 2], [5, 0, 2]]);
    const heads = (await store.chainHeads()).map((head) => [head.partition ?? 0, head.id]).sort();
    expect(heads).toEqual([[0, list[3]!.id], [2, list[4]!.id], [5, list[5]!.id]]);
    // An entry moved to another partition's chain breaks verification.
    await store.command(`ALTER TABLE ${store.table('audit_log')} UPDATE chain_partition = 5 WHERE id = '${list[1]!.id}' SETTINGS mutations_sync = 2`);
    expect((await verifyAuditLog(store)).problem).toMatchObject({ kind: 'removed-or-inserted' });
  });

  describe('tamper evidence', () => {
    async function tamperedStore(database: string) {
      const store = await openStore(database);
      const linked = chain();
      await store.insertEntries(linked.entries, linked.bodies);
      return { store, ...linked };
    }

    it('finds an edited event', async () => {
      const { store, entries } = await tamperedStore('tamper_edit');
      const victim = entries[1]!;
      await store.command(
        `ALTER TABLE ${store.table('audit_log')} UPDATE event = replace(event, 'alice', 'mallory')
         WHERE id = '${victim.id}' SETTINGS mutations_sync = 2`,
      );
      // The derived columns follow the edit: they cannot hide it.
      const [row] = await store.select<{ db_user: string }>(`SELECT db_user FROM ${store.table('audit_log')} WHERE id = '${victim.id}'`);
      expect(row?.db_user).toBe('mallory');
      expect(await verify(store)).toMatchObject({ kind: 'altered', id: victim.id, index: 1 });
    });

    it('refuses to edit an analyst column apart from the event', async () => {
      const { store, entries } = await tamperedStore('tamper_columns');
      // MATERIALIZED columns (CANNOT_UPDATE_COLUMN) and ALIAS ones (not stored: NO_SUCH_COLUMN_IN_TABLE).
      for (const column of ['op', 'db_user', 'commit_time', 'xid', 'pk', 'before', 'after']) {
        await expect(
          store.command(`ALTER TABLE ${store.table('audit_log')} UPDATE ${column} = ${column} WHERE id = '${entries[0]!.id}' SETTINGS mutations_sync = 2`),
        ).rejects.toThrow(/CANNOT_UPDATE_COLUMN|NO_SUCH_COLUMN_IN_TABLE/);
      }
    });

    it('finds a deleted entry', async () => {
      const { store, entries } = await tamperedStore('tamper_delete');
      await store.command(`ALTER TABLE ${store.table('audit_log')} DELETE WHERE id = '${entries[2]!.id}' SETTINGS mutations_sync = 2`);
      expect(await verify(store)).toMatchObject({ kind: 'removed-or-inserted', id: entries[3]!.id, index: 2 });
    });

    it('finds an inserted entry, even one that hashes correctly', async () => {
      const { store, entries } = await tamperedStore('tamper_insert');
      const forged = change(0x1000n, 2, 700, '2025-03-01T10:00:00.123456Z', { op: 'delete', pk: { id: '1' }, actor: psql });
      const body = encodeEntryBody(forged);
      const entry: AuditEntry = { ...forged, prevHash: entries[1]!.hash, hash: chainHash(entries[1]!.hash, body), retentionDays: 0, critical: false };
      await store.insertEntries([entry], [body]);
      expect(await verify(store)).toMatchObject({ kind: 'removed-or-inserted', id: entries[2]!.id, index: 3 });
    });

    it('finds a second entry under an existing id', async () => {
      const { store, entries } = await tamperedStore('tamper_duplicate');
      const original = entries[3]!;
      const forged = { ...original, after: { id: '1', email: 'evil@x.io', phone: null } };
      const body = encodeEntryBody(forged);
      await store.insertEntries([{ ...forged, hash: chainHash(forged.prevHash, body) }], [body]);
      expect(await verify(store)).toMatchObject({ kind: 'duplicate-id', id: original.id });
    });
  });

  it('pages through a chain longer than one page, keeping same-key rows together', async () => {
    const store = await openStore('paging');
    const list = Array.from({ length: 25_003 }, (_, i) => change(BigInt(0x100 + Math.floor(i / 7)), i % 7, 800 + Math.floor(i / 7), '2025-04-01T00:00:00.000000Z', { pk: { id: String(i) } }));
    const { entries, bodies } = chain(list);
    await store.insertEntries(entries, bodies);
    // A replayed copy of entries straddling the 10,000-row page boundary must all be read.
    await store.insertEntries(entries.slice(9_995, 10_005), bodies.slice(9_995, 10_005));
    const links = await collect(store.readChain());
    expect(links).toHaveLength(entries.length + 10);
    expect(await verify(store)).toBeNull();
    expect(links.at(-1)?.hash).toBe(entries.at(-1)!.hash);
  });

  it('pages through one transaction larger than a page (a big DELETE: one commit LSN)', async () => {
    const store = await openStore('paging_one_lsn');
    const list = [
      change(0x100n, 0, 900, '2025-04-01T00:00:00.000000Z', { pk: { id: 'first' } }),
      ...Array.from({ length: 23_000 }, (_, i) => change(0x200n, i, 901, '2025-04-01T00:00:01.000000Z', { op: 'delete', pk: { id: String(i) } })),
      change(0x300n, 0, 902, '2025-04-01T00:00:02.000000Z', { pk: { id: 'last' } }),
    ];
    const { entries, bodies } = chain(list);
    await store.insertEntries(entries, bodies);
    await store.insertEntries(entries.slice(9_998, 10_003), bodies.slice(9_998, 10_003));
    const links = await collect(store.readChain());
    expect(links).toHaveLength(entries.length + 5);
    expect(links.filter((link) => link.id === entries[10_000]!.id)).toHaveLength(2);
    expect(await verify(store)).toBeNull();
    expect(links.at(-1)?.id).toBe(entries.at(-1)!.id);
  });

  it('maps an unreachable server to a retriable STORE_UNREACHABLE naming the URL', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}`;
    const store = createClickHouseStore({ url, dataDir, database: 'walaudit', username: 'default', password: 'secret' });
    try {
      for (const attempt of [() => store.migrate(), () => store.countEntries(), () => store.insertEntries(chain().entries, chain().bodies)]) {
        const error = await attempt().then(
          () => null,
          (caught: unknown) => caught,
        );
        expect(error).toMatchObject({ code: 'STORE_UNREACHABLE', retriable: true });
        expect((error as Error).message).toContain(url);
      }
    } finally {
      await store.close();
    }
  });

  it('refuses a second data directory in the same process', () => {
    expect(() => createClickHouseStore({ dataDir: `${dataDir}-other`, database: 'walaudit' })).toThrow(
      expect.objectContaining({ code: 'STORE_LOCKED' }),
    );
  });
});

// Runs last in this file: it needs this process's engine closed, to open a directory another holds.
describe('a data directory held by another process', () => {
  let holder: ChildProcess | undefined;
  let heldDir: string;

  beforeAll(async () => {
    for (const store of opened.splice(0)) await store.close();
    heldDir = mkdtempSync(join(tmpdir(), 'walaudit-ch-held-'));
    holder = await holdDirectory(heldDir);
  });

  afterAll(async () => {
    if (holder && holder.exitCode === null) {
      const exited = new Promise((resolve) => holder!.once('exit', resolve));
      holder.kill();
      await exited;
    }
    rmSync(heldDir, { recursive: true, force: true });
  });

  it('says which process holds it and how to reach it instead', () => {
    let error: unknown;
    try {
      createClickHouseStore({ dataDir: heldDir, database: 'walaudit' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'STORE_LOCKED' });
    const message = (error as Error).message;
    expect(message).toContain(`another walaudit process (pid ${holder!.pid})`);
    expect(message).toContain(heldDir);
    expect(message).toMatch(/log.*verify.*status.*HTTP/);
  });
});

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A child process with chDB open on `dir`, held until it is killed. */
async function holdDirectory(dir: string): Promise<ChildProcess> {
  const script = `import { createChdbConnection } from 'chdb/connection';
    createChdbConnection({ path: ${JSON.stringify(dir)} });
    process.stdout.write('ready\\n');
    setInterval(() => {}, 1000);`;
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`the holder exited with ${code}`)));
  });
  return child;
}
