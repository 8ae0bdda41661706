import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';

describe('canonicalJson', () => {
  it('encodes scalars as JSON does', () => {
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson(true)).toBe('true');
    expect(canonicalJson(false)).toBe('false');
    expect(canonicalJson(0)).toBe('0');
    expect(canonicalJson(-0)).toBe('0');
    expect(canonicalJson(42)).toBe('42');
    expect(canonicalJson(-7)).toBe('-7');
    expect(canonicalJson(1.5)).toBe('1.5');
    expect(canonicalJson(4294967295)).toBe('4294967295');
    expect(canonicalJson(Number.MAX_SAFE_INTEGER)).toBe('9007199254740991');
    expect(canonicalJson('')).toBe('""');
    expect(canonicalJson('abc')).toBe('"abc"');
  });

  it('sorts object keys and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: 2, c: 3 })).toBe('{"a":2,"b":1,"c":3}');
    expect(canonicalJson({})).toBe('{}');
  });

  it('sorts keys by UTF-16 code units, not by locale or code point', () => {
    // upper case before lower case, ASCII before Latin-1
    expect(canonicalJson({ é: 1, a: 2, B: 3, _: 4, '1': 5 })).toBe('{"1":5,"B":3,"_":4,"a":2,"é":1}');
    // U+1F600 is the surrogate pair D83D DE00: it sorts before U+FFFF by code unit (after it by code point)
    expect(canonicalJson({ '\uffff': 1, '\u{1F600}': 2 })).toBe('{"\u{1F600}":2,"\uffff":1}');
    // U+E000 (private use) is above the surrogates by code unit
    expect(canonicalJson({ '\ue000': 1, '\u{10000}': 2 })).toBe('{"\u{10000}":2,"\ue000":1}');
  });

  it('sorts integer-like keys as strings, not in the numeric order JS enumerates them', () => {
    const value = { a: 0, '10': 1, '2': 2, '1': 3 };
    expect(Object.keys(value)).toEqual(['1', '2', '10', 'a']);
    expect(canonicalJson(value)).toBe('{"1":3,"10":1,"2":2,"a":0}');
  });

  it('sorts nested objects at every depth, including inside arrays', () => {
    const value = { z: { y: 1, x: [{ d: 1, c: 2 }, { b: { f: null, e: 'e' } }] }, a: [] };
    expect(canonicalJson(value)).toBe('{"a":[],"z":{"x":[{"c":2,"d":1},{"b":{"e":"e","f":null}}],"y":1}}');
  });

  it('keeps array order and encodes undefined array items as null', () => {
    expect(canonicalJson([3, 1, 2])).toBe('[3,1,2]');
    expect(canonicalJson([1, undefined, 'x', null])).toBe('[1,null,"x",null]');
    expect(canonicalJson([[2, 1], [], [[]]])).toBe('[[2,1],[],[[]]]');
  });

  it('omits undefined members at every depth, but keeps null', () => {
    expect(canonicalJson({ a: undefined, b: null, c: { d: undefined, e: 1 } })).toBe('{"b":null,"c":{"e":1}}');
    expect(canonicalJson({ a: undefined })).toBe('{}');
  });

  it('produces the same text whatever order the keys were inserted in', () => {
    const a = { id: 'x', tx: { seq: 1, xid: 2, lsn: '0/1' }, pk: { id: '1' } };
    const b = { pk: { id: '1' }, tx: { lsn: '0/1', xid: 2, seq: 1 }, id: 'x' };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toBe('{"id":"x","pk":{"id":"1"},"tx":{"lsn":"0/1","seq":1,"xid":2}}');
  });

  it.each([
    ['quote and backslash', 'say "hi" \\ bye'],
    ['control characters', '\n\r\t\b\f\u0000\u0001\u001f'],
    ['DEL and C1 controls (not escaped)', '\u007f\u0080\u009f'],
    ['line and paragraph separators (not escaped)', '\u2028\u2029'],
    ['non-ASCII kept literal', 'Grüße, 東京, 😀'],
    ['lone high surrogate', 'a\ud800b'],
    ['lone low surrogate', '\udc00'],
    ['reversed surrogate pair', '\ude00\ud83d'],
    ['forward slash (not escaped)', 'a/b</script>'],
  ])('escapes strings exactly as JSON.stringify does: %s', (_name, text) => {
    expect(canonicalJson(text)).toBe(JSON.stringify(text));
    expect(canonicalJson({ [text]: text })).toBe(`{${JSON.stringify(text)}:${JSON.stringify(text)}}`);
    expect(JSON.parse(canonicalJson(text))).toBe(text);
  });

  it('pins the escapes themselves', () => {
    expect(canonicalJson('"\\\n\u0001')).toBe('"\\"\\\\\\n\\u0001"');
    expect(canonicalJson('\ud800')).toBe('"\\ud800"');
    expect(canonicalJson('é😀')).toBe('"é😀"');
  });

  it.each([NaN, Infinity, -Infinity])('rejects the non-finite number %s', (value) => {
    expect(() => canonicalJson(value)).toThrow(TypeError);
    expect(() => canonicalJson(value)).toThrow(`canonical JSON cannot encode ${value}`);
    expect(() => canonicalJson({ a: { b: [1, value] } })).toThrow(TypeError);
  });

  it('rejects values JSON has no form for', () => {
    expect(() => canonicalJson(1n)).toThrow('canonical JSON cannot encode a bigint');
    expect(() => canonicalJson({ f: () => 1 })).toThrow('canonical JSON cannot encode a function');
    expect(() => canonicalJson([Symbol('s')])).toThrow('canonical JSON cannot encode a symbol');
    expect(() => canonicalJson(undefined)).toThrow('canonical JSON cannot encode a undefined');
  });

  it('equals JSON.stringify for a value whose keys are already sorted', () => {
    const value = {
      a: [1, 2.25, -3e-7, 'x', null, true],
      b: { c: 'd\u00e9\u2028', e: { f: [] } },
      g: 1e21,
    };
    expect(canonicalJson(value)).toBe(JSON.stringify(value));
  });
});
