import { describe, expect, it } from 'vitest';
import { toSeries } from './series.js';

describe('toSeries', () => {
  it('aligns every group on the same buckets, 0 where a group has none, largest group first', () => {
    const { groups, data } = toSeries([
      { bucket: '2026-03-01T10:00:00Z', group: 'public.a', entries: 2 },
      { bucket: '2026-03-01T11:00:00Z', group: 'public.b', entries: 9 },
      { bucket: '2026-03-01T10:00:00Z', group: 'public.b', entries: 1 },
    ]);
    expect(groups).toEqual(['public.b', 'public.a']);
    expect(data).toEqual([[Date.parse('2026-03-01T10:00:00Z') / 1000, Date.parse('2026-03-01T11:00:00Z') / 1000], [1, 9], [2, 0]]);
  });
  it('names the actions group (no table) for people, and keeps eight groups at most', () => {
    const points = Array.from({ length: 10 }, (_, index) => ({ bucket: '2026-03-01T10:00:00Z', group: index === 0 ? '.' : `t${index}`, entries: 100 - index }));
    const { groups, data } = toSeries(points);
    expect(groups[0]).toBe('walaudit actions');
    expect(groups).toHaveLength(8);
    expect(data).toHaveLength(9);
  });
});
