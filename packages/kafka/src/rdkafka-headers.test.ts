import { describe, expect, it } from 'vitest';
import { createHeaderLists } from './rdkafka-headers.js';

const text = (list: Record<string, unknown>[]) => list.map((entry) => Object.entries(entry).map(([name, value]) => `${name}=${String(value)}`)[0]);

describe('createHeaderLists', () => {
  it('keeps every header and its order; a list value becomes one entry per item', () => {
    const lists = createHeaderLists();
    const list = lists({ 'content-type': 'application/json', tag: ['a', 'b'], bytes: Buffer.from([1, 2]), skipped: undefined, id: 'e-1' });
    expect(text(list)).toEqual(['content-type=application/json', 'tag=a', 'tag=b', 'bytes=\u0001\u0002', 'id=e-1']);
  });

  it('reuses the entry of a value that repeats, and not of one that changed', () => {
    const lists = createHeaderLists();
    const first = lists({ 'content-type': 'application/json', id: 'e-1' });
    const second = lists({ 'content-type': 'application/json', id: 'e-2' });
    const third = lists({ 'content-type': 'application/json', id: 'e-3' });
    expect(third[0]).toBe(second[0]);
    expect(text(first)).toEqual(['content-type=application/json', 'id=e-1']);
    expect(text(second)).toEqual(['content-type=application/json', 'id=e-2']);
    expect(text(third)).toEqual(['content-type=application/json', 'id=e-3']);
    const other = lists({ 'content-type': 'avro/binary', id: 'e-4' });
    expect(text(other)).toEqual(['content-type=avro/binary', 'id=e-4']);
  });
});
