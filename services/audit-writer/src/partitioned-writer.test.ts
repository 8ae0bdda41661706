import { describe, expect, it } from 'vitest';
import { eventId, formatLsn, parseLsn, WalauditError, type AuditedEvent, type AuditEntry, type AuditStore, type ChainHead, type PreparedEntries } from '@walaudit/core';
import { createPartitionedWriter } from './partitioned-writer.js';

/** The entries of one prepared insert, as the fake store hands them back. */
interface FakePrepared extends PreparedEntries {
  rows: AuditEntry[];
}

/** Only what the writers use: chain heads, shapes and inserts, kept in memory. */
function memoryStore() {
  const inserted: AuditEntry[] = [];
  const state = { headReads: 0, refuseHeads: false };
  const store = {
    async chainHeads(): Promise<ChainHead[]> {
      state.headReads++;
      if (state.refuseHeads) throw new WalauditError('STORE_UNREACHABLE', 'the store is down');
      const heads = new Map<string, ChainHead>();
      for (const entry of inserted) {
        const head = { partition: entry.partition, chain: entry.retentionDays, id: entry.id, lsn: parseLsn(entry.tx.lsn), seq: entry.tx.seq, hash: entry.hash };
        heads.set(`${entry.partition ?? 0}:${entry.retentionDays}`, head);
      }
      return [...heads.values()];
    },
    async knownShapes() {
      return new Map();
    },
    startBatch() {
      const rows: AuditEntry[] = [];
      return { add: (entry: AuditEntry) => void rows.push(entry), finish: (): FakePrepared => ({ entries: rows.length, rows }) };
    },
    async insertPrepared(prepared: PreparedEntries) {
      inserted.push(...(prepared as FakePrepared).rows);
    },
  } as unknown as AuditStore;
  return { store, inserted, state };
}

function audited(lsn: number, seq = 0): AuditedEvent {
  const at = BigInt(lsn);
  return {
    event: {
      id: eventId(at, seq),
      op: 'insert',
      schema: 'public',
      table: 'items',
      keyKind: 'primary-key',
      pk: { id: String(lsn) },
      columns: [{ name: 'id', type: 'int4', typeOid: 23 }],
      before: null,
      after: { id: String(lsn) },
      changed: [],
      tx: { xid: lsn, lsn: formatLsn(at), commitTime: '2026-01-01T00:00:00.000000Z', seq },
      actor: {},
    },
    retentionDays: 0,
    critical: false,
  };
}

const retry = { initialMs: 1, maxMs: 1 };

describe('createPartitionedWriter', () => {
  it('keeps one writer per partition, each with its own chain', async () => {
    const { store, inserted } = memoryStore();
    const sink = createPartitionedWriter({ store, retry });
    const zero = await sink.writerFor(0);
    expect(await sink.writerFor(0)).toBe(zero);
    const three = await sink.writerFor(3);
    await zero.writeAudited([audited(0x100)]);
    await three.writeAudited([audited(0x200)]);
    await zero.writeAudited([audited(0x300)]);
    expect(inserted.map((entry) => entry.partition ?? 0)).toEqual([0, 3, 0]);
    // Partition 3's first entry starts its own chain; partition 0's second follows its first.
    expect(inserted[1]!.prevHash).toBe(inserted[0]!.prevHash);
    expect(inserted[2]!.prevHash).toBe(inserted[0]!.hash);
  });

  it('reads the store again after an assignment, and drops what another writer stored meanwhile', async () => {
    const { store, inserted, state } = memoryStore();
    const mine = createPartitionedWriter({ store, retry });
    const other = createPartitionedWriter({ store, retry });
    await (await mine.writerFor(1)).writeAudited([audited(0x100)]);
    // The partition moved to the other writer, which stored more of it, and came back.
    await (await other.writerFor(1)).writeAudited([audited(0x200)]);
    mine.assigned([1]);
    const reads = state.headReads;
    const again = await mine.writerFor(1);
    expect(state.headReads).toBe(reads + 1);
    await again.writeAudited([audited(0x200), audited(0x300)]);
    expect(inserted.map((entry) => entry.tx.lsn)).toEqual(['0/100', '0/200', '0/300']);
    expect(inserted[2]!.prevHash).toBe(inserted[1]!.hash);
  });

  it('does not keep a writer whose store could not be read: the next batch asks again', async () => {
    const { store, state } = memoryStore();
    const sink = createPartitionedWriter({ store, retry: { ...retry, cancelled: () => state.refuseHeads } });
    state.refuseHeads = true;
    await expect(sink.writerFor(2)).rejects.toMatchObject({ code: 'STORE_UNREACHABLE' });
    state.refuseHeads = false;
    await expect(sink.writerFor(2)).resolves.toBeDefined();
  });
});
