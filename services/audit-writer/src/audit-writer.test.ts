import { describe, expect, it } from 'vitest';
import {
  GENESIS_HASH,
  REDACTED,
  verifyAuditLog,
  WalauditError,
  type AuditedEvent,
  type AuditRule,
  type ChangeEvent,
  type StoredBatchStream,
} from '@walaudit/core';
import { MemoryAuditStore } from '../../../test/support/memory-audit-store.js';
import { transactionEvents, type RowChange } from '../../../test/support/change-events.js';
import { createAuditWriter, type AuditWriterDeps } from './audit-writer.js';

// The writer against an in-memory store (the ClickHouse store itself is covered by the
// integration tests): rules, the hash chain, replays, retries and the observers' place.

/** A rule with the schema's defaults, as a parsed config gives it. */
const rule = (more: Partial<AuditRule>): AuditRule => ({
  tables: ['*'], operations: ['insert', 'update', 'delete', 'truncate'], excludeColumns: [], mask: [], critical: false, audit: true, ...more,
});

/** Transaction n: `rows` inserts into public.items, committed at 0/n0000. */
function tx(n: number, rows: number, table = 'items'): ChangeEvent[] {
  const changes: RowChange[] = Array.from({ length: rows }, (_, i) => ({ op: 'insert', table, after: { id: `${n}.${i}`, secret: `s${n}.${i}` } }));
  return transactionEvents({ lsn: n * 0x10000, xid: 1000 + n }, changes);
}

const ids = (events: readonly { id: string }[]) => events.map((event) => event.id);
const unreachable = () => new WalauditError('STORE_UNREACHABLE', 'ClickHouse at memory is not reachable', { retriable: true });

function start(more: Partial<AuditWriterDeps> = {}) {
  const store = new MemoryAuditStore();
  const stored: Array<[number, number]> = [];
  const retries: number[] = [];
  const writer = createAuditWriter({
    store,
    rules: { rules: [], defaultRetentionDays: 90 },
    retry: { initialMs: 1, maxMs: 2, onRetry: (attempt) => retries.push(attempt) },
    onStored: (count, skipped) => stored.push([count, skipped]),
    ...more,
  });
  return { store, writer, stored, retries };
}

describe('audit writer: rules', () => {
  it('drops what the rules do not audit, masks and removes columns, and keeps each table as long as its rule says', async () => {
    const { store, writer, stored } = start({
      rules: {
        rules: [
          rule({ tables: ['sessions'], audit: false }),
          rule({ tables: ['items'], mask: [{ column: 'secret', mode: 'redact' }], retentionDays: 30, critical: true }),
          rule({ tables: ['logs'], operations: ['delete'], excludeColumns: ['secret'] }),
        ],
        defaultRetentionDays: 90,
      },
    });
    await writer.init();
    const events = transactionEvents({ lsn: 0x10000, xid: 7 }, [
      { op: 'insert', table: 'items', after: { id: '1', secret: 'pin 1234' } },
      { op: 'insert', table: 'sessions', after: { id: '9', secret: 'token' } },
      { op: 'insert', table: 'logs', after: { id: '3', secret: 'x' } },
      { op: 'delete', table: 'logs', before: { id: '4', secret: 'y' } },
    ]);
    await writer.write(events);

    const entries = store.entries();
    expect(entries.map((entry) => `${entry.table} ${entry.op}`)).toEqual(['items insert', 'logs delete']);
    expect(entries[0]).toMatchObject({ after: { id: '1', secret: REDACTED }, retentionDays: 30, critical: true });
    expect(entries[1]).toMatchObject({ before: { id: '4' }, retentionDays: 90, critical: false });
    expect(entries[1]!.columns.map((column) => column.name)).toEqual(['id']);
    // The masked value never reaches the store, not even in the hashed body.
    expect(store.rows.some((row) => row.body.includes('pin 1234'))).toBe(false);
    expect(stored).toEqual([[2, 2]]);
  });
});

describe('audit writer: hash chain', () => {
  it('links every entry to the one before it in its chain, one chain per retention period', async () => {
    const { store, writer } = start({
      // With rules configured, a table no rule matches is not audited: the last rule matches the rest.
      rules: { rules: [rule({ tables: ['audit_forever'], retentionDays: 0 }), rule({})], defaultRetentionDays: 90 },
    });
    await writer.init();
    await writer.write([...tx(1, 2), ...tx(2, 1, 'audit_forever')]);
    await writer.write(tx(3, 2));

    const entries = store.entries();
    const kept90 = entries.filter((entry) => entry.retentionDays === 90);
    const forever = entries.filter((entry) => entry.retentionDays === 0);
    expect(kept90.map((entry) => entry.prevHash)).toEqual([GENESIS_HASH, ...kept90.slice(0, -1).map((entry) => entry.hash)]);
    expect(forever.map((entry) => entry.prevHash)).toEqual([GENESIS_HASH]);
    const report = await verifyAuditLog(store);
    expect(report).toMatchObject({ ok: true, entriesChecked: 5, problem: null });
    expect(writer.position).toEqual({ lsn: 0x30000n, seq: 1 });
  });

  it('after a restart, continues each chain from the heads stored', async () => {
    const first = start();
    await first.writer.init();
    await first.writer.write(tx(1, 3));

    // A new writer on the same store, as after a restart.
    const writer = createAuditWriter({ store: first.store, rules: { rules: [], defaultRetentionDays: 90 }, retry: { initialMs: 1, maxMs: 2 } });
    const { heads } = await writer.init();
    expect(heads).toMatchObject([{ chain: 90, id: tx(1, 3)[2]!.id, lsn: 0x10000n, seq: 2 }]);
    await writer.write(tx(2, 2));

    const entries = first.store.entries();
    expect(entries[3]!.prevHash).toBe(entries[2]!.hash);
    expect((await verifyAuditLog(first.store)).ok).toBe(true);
  });

  it('keeps a chain per partition of the changes topic, each with its own replay position', async () => {
    const store = new MemoryAuditStore();
    const writerOf = (partition: number) => createAuditWriter({ store, rules: { rules: [], defaultRetentionDays: 90 }, retry: { initialMs: 1, maxMs: 2 }, partition });
    const zero = writerOf(0);
    const one = writerOf(1);
    await zero.init();
    await one.init();
    await one.write(tx(5, 2));
    // Partition 0 is behind partition 1 in LSN: its events are not replays of partition 1's.
    await zero.write(tx(3, 1));

    expect(store.entries().map((entry) => [entry.id, entry.partition ?? 0])).toEqual([
      [tx(3, 1)[0]!.id, 0],
      [tx(5, 2)[0]!.id, 1],
      [tx(5, 2)[1]!.id, 1],
    ]);
    expect(store.entries().map((entry) => entry.prevHash)).toEqual([GENESIS_HASH, GENESIS_HASH, store.entries()[1]!.hash]);
    const report = await verifyAuditLog(store);
    expect(report.ok).toBe(true);
    expect(report.chains).toHaveLength(2);
  });
});

describe('audit writer: replays', () => {
  it('drops events at or below the newest stored position, also after a restart', async () => {
    const { store, writer, stored } = start();
    await writer.init();
    await writer.write(tx(1, 2));
    await writer.write(tx(2, 2));
    // The slot re-sends what it had not confirmed: tx 2 again, then tx 3.
    await writer.write([...tx(2, 2), ...tx(3, 1)]);
    expect(ids(store.entries())).toEqual(ids([...tx(1, 2), ...tx(2, 2), ...tx(3, 1)]));
    expect(stored).toEqual([[2, 0], [2, 0], [1, 2]]);

    const restarted = createAuditWriter({ store, rules: { rules: [], defaultRetentionDays: 90 }, retry: { initialMs: 1, maxMs: 2 } });
    await restarted.init();
    await restarted.write([...tx(1, 2), ...tx(3, 1)]);
    expect(store.rows).toHaveLength(5);
    expect(store.insertCalls).toBe(3);
  });

  it('writeAudited drops replays and a transaction repeated within one batch', async () => {
    const { store, writer } = start();
    await writer.init();
    await writer.write(tx(1, 1));
    const again = (events: ChangeEvent[]): AuditedEvent[] => events.map((event) => ({ event, retentionDays: 90, critical: false }));
    await writer.writeAudited([...again(tx(1, 1)), ...again(tx(2, 2)), ...again(tx(2, 2))]);
    expect(ids(store.entries())).toEqual(ids([...tx(1, 1), ...tx(2, 2)]));
    expect((await verifyAuditLog(store)).ok).toBe(true);
  });
});

describe('audit writer: store failures', () => {
  it('retries an insert while the store is unreachable, and stores the batch once', async () => {
    const { store, writer, retries } = start();
    await writer.init();
    store.failInserts(unreachable(), 3);
    await writer.write(tx(1, 2));
    expect(retries).toEqual([1, 2, 3]);
    expect(store.insertCalls).toBe(4);
    expect(ids(store.entries())).toEqual(ids(tx(1, 2)));
    expect(writer.position).toEqual({ lsn: 0x10000n, seq: 1 });
  });

  it('fails at once on an error that is not retriable, then links the next write on what is stored', async () => {
    const { store, writer, retries } = start();
    await writer.init();
    await writer.write(tx(1, 1));
    store.failInserts(new WalauditError('STORE_QUERY_FAILED', 'ClickHouse refused the insert'));
    await expect(writer.write(tx(2, 2))).rejects.toThrow('ClickHouse refused the insert');
    expect(retries).toEqual([]);
    expect(writer.position).toEqual({ lsn: 0x10000n, seq: 0 });

    // Replayed by the slot: not a duplicate of what was only linked.
    await writer.write(tx(2, 2));
    expect(ids(store.entries())).toEqual(ids([...tx(1, 1), ...tx(2, 2)]));
    expect((await verifyAuditLog(store)).ok).toBe(true);
  });

  it('inserts queued writes one at a time in call order, and fails those queued behind a failed one', async () => {
    const { store, writer } = start();
    await writer.init();
    store.hold();
    store.failInserts(new WalauditError('STORE_QUERY_FAILED', 'ClickHouse refused the insert'));
    const second = writer.write(tx(2, 1));
    const third = writer.write(tx(3, 1));
    second.catch(() => undefined);
    third.catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    // The second insert waits for the first.
    expect(store.heldInserts).toBe(1);
    store.resume();
    await expect(second).rejects.toThrow('ClickHouse refused the insert');
    await expect(third).rejects.toThrow('ClickHouse refused the insert');
    expect(store.rows).toEqual([]);

    await writer.write([...tx(2, 1), ...tx(3, 1)]);
    expect(ids(store.entries())).toEqual(ids([...tx(2, 1), ...tx(3, 1)]));
    expect((await verifyAuditLog(store)).ok).toBe(true);
  });
});

describe('audit writer: observers', () => {
  it('hands each batch to the observers after it is durable, masked as stored, before write() resolves', async () => {
    const calls: Array<{ ids: string[]; storedThen: number; stream: StoredBatchStream }> = [];
    const { store, writer } = start({
      rules: { rules: [rule({ tables: ['items'], mask: [{ column: 'secret', mode: 'redact' }] })], defaultRetentionDays: 90 },
      observers: [
        (batch, stream) => {
          calls.push({ ids: ids(batch.map((audited) => audited.event)), storedThen: store.rows.length, stream: { ...stream } });
          for (const audited of batch) expect(audited.event.after?.secret).toBe(REDACTED);
        },
      ],
    });
    await writer.init();
    await writer.write(tx(1, 2));
    await writer.write(tx(2, 1));
    expect(calls).toEqual([
      // The first call after the writer took the stream says where unobserved entries may begin.
      { ids: ids(tx(1, 2)), storedThen: 2, stream: { partition: 0, unobservedFrom: { lsn: 0x10000n, seq: 0 } } },
      { ids: ids(tx(2, 1)), storedThen: 3, stream: { partition: 0 } },
    ]);
  });

  it('calls the observers one after the other, in order, and not for a batch of replays alone', async () => {
    const log: string[] = [];
    const { writer } = start({
      observers: [
        async (batch) => {
          await new Promise((resolve) => setImmediate(resolve));
          log.push(`alerts ${batch.length}`);
        },
        (batch) => void log.push(`links ${batch.length}`),
      ],
    });
    await writer.init();
    await writer.write(tx(1, 2));
    await writer.write(tx(1, 2));
    expect(log).toEqual(['alerts 2', 'links 2']);
  });

  it('fails the write when an observer throws; the entries stay stored and the next call names where unobserved entries begin', async () => {
    const streams: StoredBatchStream[] = [];
    let fail = false;
    const { store, writer } = start({
      observers: [
        (batch, stream) => {
          streams.push({ ...stream });
          if (fail) throw new WalauditError('STORE_QUERY_FAILED', 'cannot store the cascade links');
        },
      ],
    });
    await writer.init();
    await writer.write(tx(1, 1));
    fail = true;
    await expect(writer.write(tx(2, 2))).rejects.toThrow('cannot store the cascade links');
    expect(store.entries()).toHaveLength(3);
    expect(writer.position).toEqual({ lsn: 0x20000n, seq: 1 });

    fail = false;
    // The slot re-sends tx 2: stored already, so not passed on; the observers are told to read it back.
    await writer.write(tx(2, 2));
    expect(store.rows).toHaveLength(3);
    expect(streams.at(-1)).toEqual({ partition: 0, unobservedFrom: { lsn: 0x20000n, seq: 0 } });
    await writer.write(tx(3, 1));
    expect(streams.at(-1)).toEqual({ partition: 0 });
  });
});

describe('audit writer: the store\'s source', () => {
  const source = { systemId: '7401234567890123456', database: 'shop' };

  it('records the source in a new store and refuses a store of another source', async () => {
    const { store, writer } = start();
    await writer.init(source);
    expect(await store.sourceIdentity()).toEqual(source);

    const other = createAuditWriter({ store, rules: { rules: [], defaultRetentionDays: 90 }, retry: { initialMs: 1, maxMs: 2 }, storeLabel: 'the store at memory' });
    await expect(other.init({ ...source, database: 'billing' })).rejects.toMatchObject({ code: 'STORE_OTHER_SOURCE' });
  });
});
