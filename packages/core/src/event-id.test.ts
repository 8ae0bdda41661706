import { describe, expect, it } from 'vitest';
import { WalauditError } from './errors.js';
import { comparePositions, eventId, positionOf, type LogPosition } from './event-id.js';

describe('eventId', () => {
  it('is the commit LSN as 16 hex digits, a dash, then seq', () => {
    expect(eventId(0x1796738n, 0)).toBe('0000000001796738-0');
    expect(eventId((0x16n << 32n) | 0xb374d848n, 0)).toBe('00000016B374D848-0');
    expect(eventId(0x1796738n, 42)).toBe('0000000001796738-42');
    expect(eventId(0n, 0)).toBe('0000000000000000-0');
  });

  it('is unique per (lsn, seq)', () => {
    const ids = new Set<string>();
    for (const lsn of [1n, 2n, 0x100000000n]) for (const seq of [0, 1, 10, 11]) ids.add(eventId(lsn, seq));
    expect(ids.size).toBe(12);
  });
});

describe('positionOf', () => {
  it('reads the tx reference of an event (Postgres LSN spelling) into a numeric position', () => {
    expect(positionOf({ lsn: '16/B374D848', seq: 3 })).toEqual({ lsn: 97500059720n, seq: 3 });
    expect(positionOf({ lsn: '00000000/01796738', seq: 0 })).toEqual({ lsn: 24733496n, seq: 0 });
  });

  it('rejects a malformed LSN', () => {
    expect(() => positionOf({ lsn: 'nope', seq: 0 })).toThrow(WalauditError);
  });
});

describe('comparePositions', () => {
  const at = (lsn: bigint, seq: number): LogPosition => ({ lsn, seq });

  it('orders by commit LSN first', () => {
    expect(comparePositions(at(1n, 99), at(2n, 0))).toBe(-1);
    expect(comparePositions(at(2n, 0), at(1n, 99))).toBe(1);
    // beyond 2^53: compared as bigints, not as lossy numbers
    expect(comparePositions(at(0x20000000000001n, 0), at(0x20000000000000n, 5))).toBe(1);
  });

  it('orders by seq within the same commit LSN', () => {
    expect(comparePositions(at(5n, 2), at(5n, 10))).toBeLessThan(0);
    expect(comparePositions(at(5n, 10), at(5n, 2))).toBeGreaterThan(0);
    expect(comparePositions(at(5n, 7), at(5n, 7))).toBe(0);
  });

  it('sorts a shuffled log into commit order (numeric seq: 2 before 10)', () => {
    const positions = [at(2n, 10), at(1n, 1), at(2n, 2), at(0x100000000n, 0), at(1n, 0), at(2n, 0)];
    const sorted = [...positions].sort(comparePositions).map((p) => eventId(p.lsn, p.seq));
    expect(sorted).toEqual([
      '0000000000000001-0',
      '0000000000000001-1',
      '0000000000000002-0',
      '0000000000000002-2',
      '0000000000000002-10',
      '0000000100000000-0',
    ]);
  });
});
