import { describe, expect, it } from 'vitest';
import { microsToIso } from './commit-time.js';

describe('microsToIso', () => {
  it('keeps all six fractional digits', () => {
    // 2024-05-06T07:08:09.123456Z
    const micros = BigInt(Date.UTC(2024, 4, 6, 7, 8, 9, 123)) * 1000n + 456n;
    expect(microsToIso(micros)).toBe('2024-05-06T07:08:09.123456Z');
  });

  it('pads the microsecond digits', () => {
    const base = BigInt(Date.UTC(2024, 0, 1, 0, 0, 0, 0)) * 1000n;
    expect(microsToIso(base)).toBe('2024-01-01T00:00:00.000000Z');
    expect(microsToIso(base + 1n)).toBe('2024-01-01T00:00:00.000001Z');
    expect(microsToIso(base + 1000n)).toBe('2024-01-01T00:00:00.001000Z');
    expect(microsToIso(base + 999_999n)).toBe('2024-01-01T00:00:00.999999Z');
    expect(microsToIso(base + 1_000_000n)).toBe('2024-01-01T00:00:01.000000Z');
  });

  it('distinguishes commits a microsecond apart', () => {
    const a = 1_700_000_000_123_456n;
    expect(microsToIso(a)).toBe('2023-11-14T22:13:20.123456Z');
    expect(microsToIso(a + 1n)).toBe('2023-11-14T22:13:20.123457Z');
    expect(microsToIso(a) < microsToIso(a + 1n)).toBe(true);
  });

  it('starts at the Unix epoch', () => {
    expect(microsToIso(0n)).toBe('1970-01-01T00:00:00.000000Z');
    expect(microsToIso(7n)).toBe('1970-01-01T00:00:00.000007Z');
  });

  it('handles times before the epoch consistently', () => {
    expect(microsToIso(-1n)).toBe('1969-12-31T23:59:59.999999Z');
    expect(microsToIso(-1500n)).toBe('1969-12-31T23:59:59.998500Z');
    expect(microsToIso(-1_000_000n)).toBe('1969-12-31T23:59:59.000000Z');
  });
});
