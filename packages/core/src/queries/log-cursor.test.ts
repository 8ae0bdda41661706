import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, positionOfEntryId } from './log-cursor.js';

describe('log cursors', () => {
  it('round-trips a position, high LSNs included', () => {
    const position = { lsn: 0xffff_ffff_0000_0010n, seq: 4_000_000_000 };
    expect(decodeCursor(encodeCursor(position))).toEqual(position);
  });

  it('refuses anything it did not write as CONFIG_INVALID', () => {
    for (const cursor of ['', 'abc', 'p1.!!', `p1.${Buffer.from('zz:1').toString('base64url')}`, `p1.${Buffer.from('10:99999999999').toString('base64url')}`]) {
      expect(() => decodeCursor(cursor)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    }
  });

  it('reads the position an entry id names', () => {
    expect(positionOfEntryId('00000016B374D848-3')).toEqual({ lsn: 0x16b374d848n, seq: 3 });
    expect(() => positionOfEntryId('16/B374D848')).toThrow(/is not an entry id/);
  });
});
