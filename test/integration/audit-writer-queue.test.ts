import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AUDIT_EVERYTHING, WalauditError, eventId, formatLsn, verifyAuditLog, type AuditStore, type ChangeEvent, type PreparedEntries } from '@walaudit/core';
import { createClickHouseStore, type ClickHouseStore } from '@walaudit/clickhouse';
import { createAuditWriter } from '@walaudit/audit-writer';

// The audit writer takes the next batch while the previous one is inserted (ChangeSink.queuesWrites):
// these pin, against the embedded ClickHouse, that queued batches chain on each other, that they
// are stored in call order, and that a failed insert leaves nothing linked on what was not stored.

const dataDir = mkdtempSync(join(tmpdir(), 'walaudit-writer-queue-'));
const opened: ClickHouseStore[] = [];

afterAll(async () => {
  for (const store of opened) await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function openStore(database: string): Promise<ClickHouseStore> {
  const store = createClickHouseStore({ dataDir, database });
  opened.push(store);
  await store.migrate();
  return store;
}

/** Transaction n: `rows` inserts into public.items committed at 0/n0000. */
function transaction(n: number, rows: number): ChangeEvent[] {
  const lsn = BigInt(n) * 0x10000n;
  return Array.from({ length: rows }, (_, seq) => ({
    id: eventId(lsn, seq),
    op: 'insert' as const,
    schema: 'public',
    table: 'items',
    keyKind: 'primary-key' as const,
    pk: { id: `${n}.${seq}` },
    columns: [{ name: 'id', type: 'text', typeOid: 25 }],
    before: null,
    after: { id: `${n}.${seq}` },
    changed: [],
    tx: { xid: 1000 + n, lsn: formatLsn(lsn), commitTime: '2026-11-25T00:00:00.000000Z', seq },
    actor: {},
  }));
}

/** The real store, with inserts that can be held and refused (there is no server to take down). */
function controllableStore(real: ClickHouseStore) {
  const control = {
    inserted: [] as number[],
    hold: null as Promise<void> | null,
    refuseNext: false,
    store: Object.assign(Object.create(real) as AuditStore, {
      insertPrepared: async (prepared: PreparedEntries) => {
        if (control.hold) await control.hold;
        if (control.refuseNext) {
          control.refuseNext = false;
          throw new WalauditError('STORE_QUERY_FAILED', 'ClickHouse refused the insert');
        }
        await real.insertPrepared(prepared);
        control.inserted.push(prepared.entries);
      },
    }),
  };
  return control;
}

const writerOn = (store: AuditStore) =>
  createAuditWriter({ store, rules: { rules: [AUDIT_EVERYTHING], defaultRetentionDays: 0 }, retry: { initialMs: 1, maxMs: 1 } });

describe('audit writer: queued writes', () => {
  it('links each queued batch on the one before it and inserts them in call order', async () => {
    const real = await openStore('queued_in_order');
    const control = controllableStore(real);
    let release!: () => void;
    control.hold = new Promise((resolve) => (release = resolve));
    const writer = writerOn(control.store);
    await writer.init();

    // Three batches handed over before the first insert can finish.
    const writes = [writer.write(transaction(1, 3)), writer.write(transaction(2, 5)), writer.write(transaction(3, 2))];
    control.hold = null;
    release();
    await Promise.all(writes);

    expect(control.inserted).toEqual([3, 5, 2]);
    expect(await real.countEntries()).toBe(10);
    const report = await verifyAuditLog(real);
    expect(report.problem).toBeNull();
    expect(report.ok).toBe(true);
    expect(report.entriesChecked).toBe(10);
    expect(writer.position).toEqual({ lsn: 0x30000n, seq: 1 });
  });

  it('fails the batch queued behind a refused insert, then stores both again from what is stored', async () => {
    const real = await openStore('queued_after_failure');
    const control = controllableStore(real);
    const writer = writerOn(control.store);
    await writer.init();
    await writer.write(transaction(1, 2));

    let release!: () => void;
    control.hold = new Promise((resolve) => (release = resolve));
    control.refuseNext = true;
    const second = writer.write(transaction(2, 3));
    const third = writer.write(transaction(3, 4));
    control.hold = null;
    release();
    await expect(second).rejects.toThrow('ClickHouse refused the insert');
    // Linked on the refused batch: storing it would chain onto entries that are not there.
    await expect(third).rejects.toThrow('ClickHouse refused the insert');
    expect(control.inserted).toEqual([2]);
    expect(writer.position).toEqual({ lsn: 0x10000n, seq: 1 });

    // The replay (the slot re-sends both): neither is taken for a duplicate of what was only linked.
    await writer.write(transaction(2, 3));
    await writer.write(transaction(3, 4));
    expect(control.inserted).toEqual([2, 3, 4]);
    expect(await real.countEntries()).toBe(9);
    const report = await verifyAuditLog(real);
    expect(report.problem).toBeNull();
    expect(report.entriesChecked).toBe(9);
  });
});
