import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WindowDeletion, WindowOutcome, WindowRule, WindowStore } from '@walaudit/core';

/**
 * The behaviour every WindowStore must have, run against the in-memory window (unit tests) and
 * against Redis (integration): `open()` returns two handles on the same windows, as two alerter
 * instances would have.
 */
export interface WindowStorePair {
  a: WindowStore;
  b: WindowStore;
  close(): Promise<void>;
}

const RULE: WindowRule = { threshold: 50, windowMs: 10 * 60_000 };
const T0 = Date.parse('2026-11-24T10:00:00.000Z');
let lsn = 0x1000;

export function deletion(rows: number, atMs: number, overrides: Partial<WindowDeletion> = {}): WindowDeletion {
  lsn += 0x100;
  const hex = lsn.toString(16).toUpperCase().padStart(16, '0');
  return {
    atMs,
    commitTime: new Date(atMs).toISOString(),
    table: 'public.orders',
    rows,
    allRows: false,
    xid: lsn,
    firstEntryId: `${hex}-0`,
    lastEntryId: `${hex}-${Math.max(0, rows - 1)}`,
    ...overrides,
  };
}

export function describeWindowStore(name: string, open: () => Promise<WindowStorePair>): void {
  describe(`${name} window store`, () => {
    let pair: WindowStorePair;
    let key: string;
    beforeEach(async () => {
      pair = await open();
      key = `alice-${Math.random().toString(16).slice(2)}\u0000default`;
    });
    afterEach(async () => pair.close());

    const kinds = (outcomes: WindowOutcome[]) => outcomes.map((outcome) => outcome.kind);

    it('raises nothing up to the threshold and one alert past it', async () => {
      const outcomes = [];
      for (let i = 0; i < 5; i++) outcomes.push(await pair.a.add(key, deletion(10, T0 + i * 1000), RULE));
      expect(kinds(outcomes)).toEqual(['below', 'below', 'below', 'below', 'below']);
      const past = await pair.a.add(key, deletion(1, T0 + 6000), RULE);
      expect(past.kind).toBe('opened');
      if (past.kind === 'below') return;
      expect(past.alert.rows).toBe(51);
      expect(past.alert.transactions).toBe(6);
      expect(past.alert.windowStartMs).toBe(T0);
    });

    it('raises one alert for a 100k-row DELETE that arrives in batches', async () => {
      const xid = 777;
      const outcomes = [];
      for (let batch = 0; batch < 10; batch++) {
        outcomes.push(await pair.a.add(key, deletion(10_000, T0, { xid, firstEntryId: `0000000000ABC000-${batch * 10_000}`, lastEntryId: `0000000000ABC000-${batch * 10_000 + 9_999}` }), RULE));
      }
      expect(kinds(outcomes)).toEqual(['opened', ...Array(9).fill('grew')]);
      const last = outcomes.at(-1)!;
      if (last.kind === 'below') throw new Error('no alert');
      expect(new Set(outcomes.map((outcome) => (outcome.kind === 'below' ? null : outcome.alert.id))).size).toBe(1);
      expect(last.alert).toMatchObject({ rows: 100_000, transactions: 1, xids: [xid], firstEntryId: '0000000000ABC000-0', lastEntryId: '0000000000ABC000-99999', version: 10 });
    });

    it('slides: deletions further apart than the window do not add up', async () => {
      expect((await pair.a.add(key, deletion(30, T0), RULE)).kind).toBe('below');
      expect((await pair.a.add(key, deletion(30, T0 + 10 * 60_000 + 1000), RULE)).kind).toBe('below');
      expect((await pair.a.add(key, deletion(21, T0 + 15 * 60_000), RULE)).kind).toBe('opened');
    });

    it('grows the open alert while the actor goes on, and opens a new one after a quiet window', async () => {
      const first = await pair.a.add(key, deletion(60, T0), RULE);
      const grew = await pair.a.add(key, deletion(5, T0 + 9 * 60_000, { table: 'public.customers' }), RULE);
      const grewAgain = await pair.a.add(key, deletion(5, T0 + 18 * 60_000), RULE);
      expect(kinds([first, grew, grewAgain])).toEqual(['opened', 'grew', 'grew']);
      if (grewAgain.kind === 'below' || first.kind === 'below') return;
      expect(grewAgain.alert.rows).toBe(70);
      expect(grewAgain.alert.tables).toEqual([
        { table: 'public.orders', rows: 65, allRows: false },
        { table: 'public.customers', rows: 5, allRows: false },
      ]);
      const afterGap = await pair.a.add(key, deletion(5, T0 + 40 * 60_000), RULE);
      expect(afterGap.kind).toBe('below');
      const again = await pair.a.add(key, deletion(50, T0 + 41 * 60_000), RULE);
      expect(again.kind).toBe('opened');
      if (again.kind !== 'below') expect(again.alert.id).not.toBe(first.alert.id);
    });

    it('counts afresh after an acknowledgement', async () => {
      const opened = await pair.a.add(key, deletion(100, T0), RULE);
      if (opened.kind === 'below') throw new Error('no alert');
      await pair.b.release(key, opened.alert.id);
      expect((await pair.a.add(key, deletion(10, T0 + 1000), RULE)).kind).toBe('below');
      expect((await pair.a.add(key, deletion(41, T0 + 2000), RULE)).kind).toBe('opened');
    });

    it('never alerts with threshold 0', async () => {
      expect((await pair.a.add(key, deletion(1_000_000, T0), { ...RULE, threshold: 0 })).kind).toBe('below');
    });

    it('alerts at once on a TRUNCATE counted as all rows', async () => {
      const outcome = await pair.a.add(key, deletion(0, T0, { allRows: true }), RULE);
      expect(outcome.kind).toBe('opened');
      if (outcome.kind !== 'below') expect(outcome.alert.allRows).toBe(true);
    });

    it('keeps one actor apart from another', async () => {
      expect((await pair.a.add(`${key}-bob`, deletion(40, T0), RULE)).kind).toBe('below');
      expect((await pair.a.add(key, deletion(40, T0), RULE)).kind).toBe('below');
    });

    it('two instances that each see half of one actor\'s deletions raise exactly one alert', async () => {
      const outcomes = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? pair.a : pair.b).add(key, deletion(3, T0 + i * 100), RULE)),
      );
      expect(outcomes.filter((outcome) => outcome.kind === 'opened')).toHaveLength(1);
      const last = await pair.b.add(key, deletion(1, T0 + 5000), RULE);
      expect(last.kind).toBe('grew');
      if (last.kind === 'grew') expect(last.alert.rows).toBe(121);
    });

    it('keeps memory bounded: a million rows in a thousand transactions keep 20 transaction ids', async () => {
      let last: WindowOutcome = { kind: 'below' };
      for (let i = 0; i < 1000; i++) last = await pair.a.add(key, deletion(1000, T0 + i * 10), RULE);
      if (last.kind === 'below') throw new Error('no alert');
      expect(last.alert.rows).toBe(1_000_000);
      expect(last.alert.transactions).toBe(1000);
      expect(last.alert.xids).toHaveLength(20);
      expect(JSON.stringify(last.alert).length).toBeLessThan(2000);
    });
  });
}
