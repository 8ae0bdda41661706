import { describe, expect, it } from 'vitest';
import { chainHash, GENESIS_HASH, type StoredChainLink } from './hash-chain.js';
import type { ChangeEvent } from './change-event.types.js';
import { eventId } from './event-id.js';
import { verifyAuditLog } from './verify-log.js';
import { linkedEntries } from '../../../test/support/linked-entries.js';

/** A fake of the store's chain iterator only; records how far verify read. */
function fakeStore(links: readonly StoredChainLink[], failAfter?: number) {
  const state = { yielded: 0, closed: false };
  return {
    state,
    async *readChain(): AsyncGenerator<StoredChainLink> {
      try {
        for (const link of links) {
          if (failAfter !== undefined && state.yielded === failAfter) throw new Error('store went away');
          state.yielded++;
          yield link;
        }
      } finally {
        state.closed = true;
      }
    },
  };
}

function event(seq: number): ChangeEvent {
  return {
    id: eventId(0x2000n, seq),
    op: 'delete',
    schema: 'public',
    table: 'orders',
    keyKind: 'primary-key',
    pk: { id: String(seq) },
    columns: [{ name: 'id', type: 'int4', typeOid: 23 }],
    before: { id: String(seq) },
    after: null,
    changed: [],
    tx: { xid: 10, lsn: '0/2000', commitTime: '2024-01-01T00:00:00.000000Z', seq },
    actor: {},
  };
}

function chain(count: number): StoredChainLink[] {
  const { entries, bodies } = linkedEntries(
    new Map(),
    Array.from({ length: count }, (_, seq) => ({ event: event(seq), retentionDays: 0, critical: false })),
  );
  return entries.map((entry, i) => ({ chain: 0, id: entry.id, prevHash: entry.prevHash, hash: entry.hash, body: bodies[i]! }));
}

/** Many cheap links, for the progress callback. */
function bigChain(count: number): StoredChainLink[] {
  const links: StoredChainLink[] = [];
  let prev = GENESIS_HASH;
  for (let i = 0; i < count; i++) {
    const body = `{"n":${i}}`;
    const hash = chainHash(prev, body);
    links.push({ chain: 0, id: String(i), prevHash: prev, hash, body });
    prev = hash;
  }
  return links;
}

describe('verifyAuditLog', () => {
  it('reports an empty log as ok with no head', async () => {
    expect(await verifyAuditLog(fakeStore([]))).toEqual({ ok: true, entriesChecked: 0, chains: [], problem: null });
  });

  it('accepts an intact chain and reports its head', async () => {
    const links = chain(5);
    const store = fakeStore(links);
    expect(await verifyAuditLog(store)).toEqual({ ok: true, entriesChecked: 5, chains: [{ chain: 0, entries: 5, headHash: links[4]!.hash }], problem: null });
    expect(store.state).toEqual({ yielded: 5, closed: true });
  });

  it('stops at the first problem and names it', async () => {
    const links = chain(6);
    const tampered = links.map((link, i) => (i === 3 ? { ...link, body: link.body.replace('"3"', '"33"') } : link));
    const store = fakeStore(tampered);
    const report = await verifyAuditLog(store);
    expect(report.ok).toBe(false);
    expect(report.entriesChecked).toBe(3);
    expect(report.chains).toEqual([{ chain: 0, entries: 3, headHash: links[2]!.hash }]);
    expect(report.problem).toMatchObject({ kind: 'altered', id: '0000000000002000-3', index: 3, chain: 0 });
    // read no further than the bad entry, and released the iterator
    expect(store.state).toEqual({ yielded: 4, closed: true });
  });

  it('reports a removed entry', async () => {
    const links = chain(4);
    const report = await verifyAuditLog(fakeStore([links[0]!, links[2]!, links[3]!]));
    expect(report).toMatchObject({ ok: false, entriesChecked: 1, chains: [{ chain: 0, entries: 1, headHash: links[0]!.hash }] });
    expect(report.problem).toMatchObject({ kind: 'removed-or-inserted', id: '0000000000002000-2', index: 1 });
  });

  it('tolerates a replayed duplicate', async () => {
    const links = chain(3);
    expect(await verifyAuditLog(fakeStore([links[0]!, links[1]!, links[1]!, links[2]!]))).toEqual({
      ok: true,
      entriesChecked: 3,
      chains: [{ chain: 0, entries: 3, headHash: links[2]!.hash }],
      problem: null,
    });
  });

  it('reports a duplicate id with a different hash', async () => {
    const links = chain(2);
    const body = links[1]!.body.replace('delete', 'insert');
    const twin = { ...links[1]!, body, hash: chainHash(links[1]!.prevHash, body) };
    const report = await verifyAuditLog(fakeStore([links[0]!, links[1]!, twin]));
    expect(report).toMatchObject({ ok: false, entriesChecked: 2, problem: { kind: 'duplicate-id', index: 2, id: '0000000000002000-1' } });
  });

  it('passes a store error through', async () => {
    await expect(verifyAuditLog(fakeStore(chain(3), 2))).rejects.toThrow('store went away');
  });

  it('reports progress every 100,000 entries', async () => {
    const links = bigChain(200_001);
    const progress: number[] = [];
    const report = await verifyAuditLog(fakeStore(links), (checked) => progress.push(checked));
    expect(progress).toEqual([100_000, 200_000]);
    expect(report).toEqual({ ok: true, entriesChecked: 200_001, chains: [{ chain: 0, entries: 200_001, headHash: links[200_000]!.hash }], problem: null });
  }, 30_000);

  it('reports no progress for a small log', async () => {
    const progress: number[] = [];
    await verifyAuditLog(fakeStore(chain(10)), (checked) => progress.push(checked));
    expect(progress).toEqual([]);
  });

  describe('one chain per retention period', () => {
    /** Entries alternating between a 30-day and a forever chain, as the writer links them. */
    function mixed(count: number): StoredChainLink[] {
      const { entries, bodies } = linkedEntries(
        new Map(),
        Array.from({ length: count }, (_, seq) => ({ event: event(seq), retentionDays: seq % 2 === 0 ? 30 : 0, critical: false })),
      );
      return entries.map((entry, i) => ({ chain: entry.retentionDays, id: entry.id, prevHash: entry.prevHash, hash: entry.hash, body: bodies[i]! }));
    }

    it('verifies interleaved chains, each on its own', async () => {
      const links = mixed(6);
      const report = await verifyAuditLog(fakeStore(links));
      expect(report).toEqual({
        ok: true,
        entriesChecked: 6,
        chains: [
          { chain: 0, entries: 3, headHash: links[5]!.hash },
          { chain: 30, entries: 3, headHash: links[4]!.hash },
        ],
        problem: null,
      });
    });

    it('stays verifiable when expiry removed the oldest entries of one chain', async () => {
      const links = mixed(8);
      // The 30-day chain lost its two oldest entries (0 and 2); the forever chain is whole.
      const purged = links.filter((_, i) => i !== 0 && i !== 2);
      const report = await verifyAuditLog(fakeStore(purged));
      expect(report.ok).toBe(true);
      expect(report.chains).toEqual([
        { chain: 0, entries: 4, headHash: links[7]!.hash },
        { chain: 30, entries: 2, headHash: links[6]!.hash },
      ]);
    });

    it('names the chain and log position of an entry removed from the middle of one chain', async () => {
      const links = mixed(8);
      const report = await verifyAuditLog(fakeStore(links.filter((_, i) => i !== 3)));
      expect(report.ok).toBe(false);
      expect(report.problem).toMatchObject({ kind: 'removed-or-inserted', chain: 0, id: '0000000000002000-5', index: 4 });
    });

    it('detects an entry moved to another chain', async () => {
      const links = mixed(6);
      const moved = links.map((link, i) => (i === 2 ? { ...link, chain: 0 } : link));
      const report = await verifyAuditLog(fakeStore(moved));
      expect(report.ok).toBe(false);
      expect(report.problem).toMatchObject({ kind: 'removed-or-inserted', id: '0000000000002000-2', chain: 0 });
    });
  });
});

describe('one set of chains per Kafka partition (distributed mode)', () => {
  /**
   * Two writers, each owning one partition, link their transactions independently; the log
   * interleaves them in (lsn, seq) order, as verify reads it.
   */
  function twoPartitions(): StoredChainLink[] {
    const even = linkedEntries(new Map(), [0, 2, 4].map((seq) => ({ event: event(seq), retentionDays: 0, critical: false })), 1);
    const odd = linkedEntries(new Map(), [1, 3, 5].map((seq) => ({ event: event(seq), retentionDays: 0, critical: false })), 2);
    const links: StoredChainLink[] = [];
    for (let i = 0; i < 3; i++) {
      for (const side of [even, odd]) {
        const entry = side.entries[i]!;
        links.push({ partition: entry.partition, chain: 0, id: entry.id, prevHash: entry.prevHash, hash: entry.hash, body: side.bodies[i]! });
      }
    }
    return links;
  }

  it('records the partition on each entry it links', () => {
    const { entries } = linkedEntries(new Map(), [{ event: event(0), retentionDays: 0, critical: false }], 4);
    expect(entries[0]!.partition).toBe(4);
    expect(linkedEntries(new Map(), [{ event: event(0), retentionDays: 0, critical: false }]).entries[0]!.partition).toBeUndefined();
  });

  it('verifies interleaved partitions, each chain on its own', async () => {
    const links = twoPartitions();
    const report = await verifyAuditLog(fakeStore(links));
    expect(report.ok).toBe(true);
    expect(report.chains).toEqual([
      { partition: 1, chain: 0, entries: 3, headHash: links[4]!.hash },
      { partition: 2, chain: 0, entries: 3, headHash: links[5]!.hash },
    ]);
  });

  it('names partition 0 as well once the log holds another partition', async () => {
    const first = linkedEntries(new Map(), [{ event: event(0), retentionDays: 0, critical: false }], 0);
    const second = linkedEntries(new Map(), [{ event: event(1), retentionDays: 0, critical: false }], 3);
    const links: StoredChainLink[] = [first, second].map(({ entries, bodies }) => ({ partition: entries[0]!.partition ?? 0, chain: 0, id: entries[0]!.id, prevHash: entries[0]!.prevHash, hash: entries[0]!.hash, body: bodies[0]! }));
    const report = await verifyAuditLog(fakeStore(links));
    expect(report.chains.map((chain) => chain.partition)).toEqual([0, 3]);
    // Standalone's single stream stays unnamed.
    expect((await verifyAuditLog(fakeStore([links[0]!]))).chains[0]).not.toHaveProperty('partition');
  });

  it('finds an entry moved to another partition', async () => {
    const links = twoPartitions();
    links[2] = { ...links[2]!, partition: 2 };
    const report = await verifyAuditLog(fakeStore(links));
    expect(report.ok).toBe(false);
    expect(report.problem).toMatchObject({ kind: 'removed-or-inserted', partition: 2, chain: 0, id: links[2]!.id });
  });

  it('finds an entry removed from one partition', async () => {
    const links = twoPartitions().filter((_, i) => i !== 3);
    const report = await verifyAuditLog(fakeStore(links));
    expect(report.problem).toMatchObject({ kind: 'removed-or-inserted', partition: 2, id: '0000000000002000-5' });
  });
});
