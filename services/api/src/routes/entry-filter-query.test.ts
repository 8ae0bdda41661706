import { describe, expect, it } from 'vitest';
import { entryFilterQuery, toEntryFilter } from './entry-filter-query.js';

const parse = (params: Record<string, string | string[]>) => toEntryFilter(entryFilterQuery.parse(params));

describe('entry filter from URL parameters', () => {
  it('takes lists given twice or comma-separated, and maps names to the store filter', () => {
    expect(parse({ table: ['orders', 'public.lines,audit.x'], op: 'delete,update', ip: '10.0.0.1', xid: '42' })).toEqual({
      tables: ['orders', 'public.lines', 'audit.x'],
      ops: ['delete', 'update'],
      clientIp: '10.0.0.1',
      xid: 42,
    });
  });

  it('refuses an unknown op', () => {
    expect(() => entryFilterQuery.parse({ op: 'delete,drop' })).toThrow(/insert/);
  });

  it('takes a primary key with exactly one table', () => {
    expect(parse({ table: 'orders', pk: '{"id":"3"}' })).toMatchObject({ key: { table: 'orders', pk: { id: '3' } } });
    expect(() => parse({ pk: '{"id":"3"}' })).toThrow(/exactly one table/);
    expect(() => parse({ table: 'orders', pk: '{id:3}' })).toThrow(/not JSON/);
  });

  it('an empty filter is empty', () => {
    expect(parse({})).toEqual({});
  });
});
