import { describe, expect, it } from 'vitest';
import { eachPage, type PageFetch } from './page-reader.js';

/** Items 0..n-1 in pages; `short` drops the last item of every full page (as a replayed copy does) but keeps the cursor. */
function pagesOf(n: number, short = false): { fetch: PageFetch<number>; asked: number[] } {
  const asked: number[] = [];
  const fetch: PageFetch<number> = async (limit, cursor) => {
    asked.push(limit);
    const from = cursor === undefined ? 0 : Number(cursor);
    const to = Math.min(n, from + limit);
    const items = Array.from({ length: to - from }, (_, index) => from + index);
    return { items: short && items.length === limit && limit > 1 ? items.slice(0, -1) : items, nextCursor: to < n ? String(to) : undefined };
  };
  return { fetch, asked };
}

describe('eachPage', () => {
  it('stops at the limit, asking no more than it still needs', async () => {
    const { fetch, asked } = pagesOf(10);
    const seen: number[] = [];
    expect(await eachPage(fetch, 7, 3, (item) => seen.push(item))).toBe(7);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(asked).toEqual([3, 3, 1]);
  });

  it('reads to the last page when the limit is larger than the log', async () => {
    const { fetch, asked } = pagesOf(10);
    const seen: number[] = [];
    expect(await eachPage(fetch, 100_000, 4, (item) => seen.push(item))).toBe(10);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(asked).toEqual([4, 4, 4]);
  });

  it('follows the cursor past a page shorter than asked, never stopping on the count', async () => {
    const { fetch } = pagesOf(9, true);
    const seen: number[] = [];
    await eachPage(fetch, 100, 3, (item) => seen.push(item));
    expect(seen).toEqual([0, 1, 3, 4, 6, 7]);
  });
});
