import { describe, expect, it } from 'vitest';
import { keyText, parseArrayLiteral, parsePgTimestamp, showValue } from './format.js';

describe('showValue', () => {
  it('shows booleans as yes and no', () => {
    expect(showValue('t', 'bool')).toEqual({ kind: 'bool', text: 'yes' });
    expect(showValue('f', 'bool')).toEqual({ kind: 'bool', text: 'no' });
  });
  it('shows arrays as tags, quoted elements and NULL included', () => {
    expect(showValue('{red,"dark blue",NULL,"NULL"}', '_text')).toEqual({ kind: 'tags', tags: ['red', 'dark blue', '∅', 'NULL'] });
    expect(showValue('{}', '_int4')).toEqual({ kind: 'tags', tags: [] });
  });
  it('pretty-prints JSON, and keeps text that is not JSON', () => {
    expect(showValue('{"a":1}', 'jsonb')).toEqual({ kind: 'json', text: '{\n  "a": 1\n}' });
    expect(showValue('{oops', 'json')).toEqual({ kind: 'text', text: '{oops' });
  });
  it('moves a timestamptz into the viewer zone and keeps the stored text', () => {
    const shown = showValue('2026-03-01 10:00:00.123456+00', 'timestamptz', 'Europe/Paris');
    expect(shown.kind).toBe('time');
    if (shown.kind !== 'time') return;
    expect(shown.stored).toBe('2026-03-01 10:00:00.123456+00');
    expect(shown.text).toContain('11:00:00');
  });
  it('leaves a timestamp without zone as written', () => {
    expect(showValue('2026-03-01 10:00:00', 'timestamp')).toEqual({ kind: 'text', text: '2026-03-01 10:00:00' });
  });
  it('says a masked value is masked', () => {
    expect(showValue('[redacted]', 'text').kind).toBe('masked');
    expect(showValue('hmac-sha256:ab12', 'text').kind).toBe('masked');
  });
  it('tells NULL from empty text', () => {
    expect(showValue(null, 'text')).toEqual({ kind: 'null' });
    expect(showValue('', 'text')).toEqual({ kind: 'text', text: '' });
  });
});

describe('parsing helpers', () => {
  it('refuses nested arrays rather than splitting them wrongly', () => {
    expect(parseArrayLiteral('{{1,2},{3,4}}')).toBeNull();
    expect(parseArrayLiteral('{"a\\"b",c}')).toEqual(['a"b', 'c']);
  });
  it('reads Postgres offsets of hours only', () => {
    expect(parsePgTimestamp('2026-03-01 10:00:00+02', 'timestamptz')?.toISOString()).toBe('2026-03-01T08:00:00.000Z');
    expect(parsePgTimestamp('infinity', 'timestamptz')).toBeNull();
  });
  it('writes a key in a line', () => {
    expect(keyText({ a: '1', b: null })).toBe('a 1, b NULL');
  });
});
