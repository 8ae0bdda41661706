import { describe, expect, it } from 'vitest';
import { ChainTrees } from './chain-trees.js';
import { merkleRoot, MerkleFrontier } from './merkle.js';

const entry = (i: number, retentionDays = 90, partition = 0) => ({ partition, retentionDays, id: `${String(i).padStart(16, '0')}-0`, hash: i.toString(16).padStart(64, '0'), committedAt: '2026-12-05T08:00:00.000Z' });

describe('ChainTrees', () => {
  it('is due after the interval when a chain received entries, or after enough entries, one checkpoint per chain', () => {
    const trees = new ChainTrees('a.example/x', { intervalMs: 1_000, entries: 3 }, 0);
    expect(trees.anyDue(5_000)).toBe(false);
    trees.append(entry(1));
    trees.append(entry(2, 0));
    expect(trees.anyDue(999)).toBe(false);
    expect(trees.takeDue(1_000).map(({ checkpoint }) => checkpoint.origin)).toEqual(['a.example/x/p0/r90', 'a.example/x/p0/r0']);
    expect(trees.takeDue(9_000)).toEqual([]);
    for (const i of [3, 4, 5]) trees.append(entry(i));
    const [due] = trees.takeDue(1_001);
    expect(due!.checkpoint.size).toBe(4);
    expect(due!.checkpoint.first!.id).toBe(entry(1).id);
    expect(due!.checkpoint.head!.id).toBe(entry(5).id);
    expect(due!.checkpoint.root.equals(merkleRoot([1, 3, 4, 5].map((i) => Buffer.from(entry(i).hash, 'hex'))))).toBe(true);
  });

  it('checkpoints every chain at start and at stop, the stop one final, and continues a restored tree', () => {
    const trees = new ChainTrees('a.example/x', { intervalMs: 60_000, entries: 100 }, 0);
    const frontier = MerkleFrontier.empty();
    frontier.append(Buffer.from(entry(1).hash, 'hex'));
    trees.restore({ chain: { partition: 2, retentionDays: 30 }, frontier, first: entry(1), head: entry(1) }, 0);
    expect(trees.takeDue(1)).toEqual([]);
    expect(trees.takeDue(1, { every: true }).map(({ checkpoint }) => [checkpoint.size, checkpoint.final])).toEqual([[1, false]]);
    trees.append(entry(2, 30, 2));
    const [due] = trees.takeDue(1, { every: true, final: true });
    expect(due!.checkpoint.origin).toBe('a.example/x/p2/r30');
    expect(due!.checkpoint.size).toBe(2);
    expect(due!.checkpoint.final).toBe(true);
    expect(due!.checkpoint.first!.id).toBe(entry(1).id);
  });
});
