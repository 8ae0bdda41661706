import { describe, expect, it } from 'vitest';
import { WalauditError } from './errors.js';
import { formatLsn, lsnSortKey, parseLsn } from './lsn.js';

describe('parseLsn', () => {
  it('parses the unpadded form Postgres prints', () => {
    expect(parseLsn('0/1796738')).toBe(0x1796738n);
    expect(parseLsn('0/1796738')).toBe(24733496n);
  });

  it('parses the zero-padded form the replication library hands out to the same value', () => {
    expect(parseLsn('00000000/01796738')).toBe(24733496n);
    expect(parseLsn('00000000/01796738')).toBe(parseLsn('0/1796738'));
  });

  it('puts the high half above bit 32', () => {
    expect(parseLsn('16/B374D848')).toBe((0x16n << 32n) | 0xb374d848n);
    expect(parseLsn('16/B374D848')).toBe(97500059720n);
    expect(parseLsn('1/0')).toBe(4294967296n);
    expect(parseLsn('0/FFFFFFFF')).toBe(4294967295n);
    expect(parseLsn('FFFFFFFF/FFFFFFFF')).toBe(18446744073709551615n);
    expect(parseLsn('0/0')).toBe(0n);
  });

  it('accepts lower-case hex and surrounding whitespace', () => {
    expect(parseLsn('16/b374d848')).toBe(97500059720n);
    expect(parseLsn('  0/1796738\n')).toBe(24733496n);
  });

  it.each([
    '',
    '0',
    '1796738',
    '0/',
    '/1796738',
    '0/1796738/1',
    '0-1796738',
    '0/17967G8',
    '123456789/0',
    '0/123456789',
    '0x0/0x1',
    '-1/0',
    '0 /1',
  ])('rejects %j with MALFORMED_MESSAGE', (text) => {
    let thrown: unknown;
    try {
      parseLsn(text);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(WalauditError);
    expect((thrown as WalauditError).code).toBe('MALFORMED_MESSAGE');
    expect((thrown as WalauditError).retriable).toBe(false);
    expect((thrown as WalauditError).message).toBe(`"${text}" is not a WAL position (expected X/Y in hex)`);
  });
});

describe('formatLsn', () => {
  it("uses Postgres' own spelling: upper-case hex halves without padding", () => {
    expect(formatLsn(24733496n)).toBe('0/1796738');
    expect(formatLsn(97500059720n)).toBe('16/B374D848');
    expect(formatLsn(0n)).toBe('0/0');
    expect(formatLsn(4294967296n)).toBe('1/0');
    expect(formatLsn(18446744073709551615n)).toBe('FFFFFFFF/FFFFFFFF');
  });

  it('round-trips through parseLsn from either spelling', () => {
    expect(formatLsn(parseLsn('00000000/01796738'))).toBe('0/1796738');
    expect(formatLsn(parseLsn('00000016/b374d848'))).toBe('16/B374D848');
    for (const lsn of [0n, 1n, 0xffffffffn, 0x100000000n, 0xabcdef0123456789n]) {
      expect(parseLsn(formatLsn(lsn))).toBe(lsn);
    }
  });
});

describe('lsnSortKey', () => {
  it('is 16 upper-case hex digits, zero padded', () => {
    expect(lsnSortKey(24733496n)).toBe('0000000001796738');
    expect(lsnSortKey(97500059720n)).toBe('00000016B374D848');
    expect(lsnSortKey(0n)).toBe('0000000000000000');
    expect(lsnSortKey(18446744073709551615n)).toBe('FFFFFFFFFFFFFFFF');
  });

  it('sorts as strings exactly as the LSNs sort as numbers', () => {
    const lsns = ['1/0', '0/FFFFFFFF', '0/A', '0/9', 'A/0', '0/10', '9/FFFFFFFF', '0/0'].map(parseLsn);
    const byNumber = [...lsns].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map(formatLsn);
    const byKey = [...lsns].sort((a, b) => (lsnSortKey(a) < lsnSortKey(b) ? -1 : 1)).map(formatLsn);
    expect(byNumber).toEqual(['0/0', '0/9', '0/A', '0/10', '0/FFFFFFFF', '1/0', '9/FFFFFFFF', 'A/0']);
    expect(byKey).toEqual(byNumber);
  });

  it('differs from the Postgres spelling, whose string order is not WAL order', () => {
    // '0/A' > '0/10' as strings, though 0xA < 0x10.
    expect(formatLsn(0xan) > formatLsn(0x10n)).toBe(true);
    expect(lsnSortKey(0xan) < lsnSortKey(0x10n)).toBe(true);
  });
});
