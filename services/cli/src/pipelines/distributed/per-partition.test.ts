import { describe, expect, it } from 'vitest';
import type { AuditedEvent } from '@walaudit/core';
import { perPartition } from './per-partition.js';

const batch = (label: string) => [{ event: { id: label } } as unknown as AuditedEvent];

describe('perPartition', () => {
  it('gives each partition its own observer, created once, fed in its own order while partitions interleave', async () => {
    const created: number[] = [];
    const seen = new Map<number, string[]>();
    const observe = perPartition(async (partition) => {
      created.push(partition);
      seen.set(partition, []);
      return async (stored) => void seen.get(partition)!.push(stored[0]!.event.id);
    });
    await observe(batch('p0-a'), { partition: 0 });
    await observe(batch('p1-a'), { partition: 1 });
    await observe(batch('p0-b'), { partition: 0 });
    await observe(batch('p1-b'), { partition: 1 });
    expect(created).toEqual([0, 1]);
    expect(seen.get(0)).toEqual(['p0-a', 'p0-b']);
    expect(seen.get(1)).toEqual(['p1-a', 'p1-b']);
  });

  it('hands each partition observer the stream as well, with where it resumed', async () => {
    const streams: unknown[] = [];
    const observe = perPartition(async () => async (_stored, stream) => void streams.push(stream));
    await observe([], { partition: 1, unobservedFrom: { lsn: 42n, seq: 3 } });
    await observe(batch('b'), { partition: 1 });
    expect(streams).toEqual([{ partition: 1, unobservedFrom: { lsn: 42n, seq: 3 } }, { partition: 1 }]);
  });

  it('fails the batch when creating fails, and creates again with the next batch', async () => {
    let attempts = 0;
    const observe = perPartition(async () => {
      if (++attempts === 1) throw new Error('postgres down');
      return async () => {};
    });
    await expect(observe(batch('a'), { partition: 2 })).rejects.toThrow('postgres down');
    await observe(batch('a'), { partition: 2 });
    await observe(batch('b'), { partition: 2 });
    expect(attempts).toBe(2);
  });
});
