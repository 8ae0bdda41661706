import { describe, expect, it } from 'vitest';
import { checkEntryFilter, checkLimit, checkStatsRequest, checkTime, keyJson, parseTableName } from './entry-filter.js';

describe('checkEntryFilter', () => {
  it('puts every member in the form the store compares with', () => {
    const checked = checkEntryFilter({
      tables: ['billing.invoices', 'users'],
      ops: ['delete', 'update'],
      actor: 'bob',
      xid: 42,
      from: '2026-03-01T10:00:00Z',
      to: '2026-03-02T00:00:00.123456+00:00',
      key: { table: 'public.users', pk: { tenant: 'a', id: '7' } },
      text: 'say "hi"',
    });
    expect(checked.tables).toEqual([{ schema: 'billing', name: 'invoices' }, { name: 'users' }]);
    expect(checked.ops).toEqual(['delete', 'update']);
    expect(checked.from).toBe('2026-03-01T10:00:00.000000Z');
    expect(checked.to).toBe('2026-03-02T00:00:00.123456Z');
    expect(checked.key).toEqual({ table: { schema: 'public', name: 'users' }, pkJson: '{"id":"7","tenant":"a"}' });
    expect(checked.text).toEqual({ plain: 'say "hi"', escaped: 'say \\"hi\\"' });
  });

  it.each([
    [{ ops: ['remove'] }, /filter ops: "remove" is not one of/],
    [{ xid: -1 }, /filter xid/],
    [{ from: 'yesterday' }, /filter from: "yesterday" is not an ISO 8601 time/],
    [{ from: '2026-03-02T00:00:00Z', to: '2026-03-01T00:00:00Z' }, /filter to: .* is not after from/],
    [{ tables: ['.x'] }, /filter tables/],
    [{ key: { table: 'users', pk: {} } }, /filter key: the primary key must name/],
    [{ actor: '' }, /filter actor/],
    [{ text: '' }, /filter text/],
  ])('refuses %j as CONFIG_INVALID naming the filter', (filter, message) => {
    expect(() => checkEntryFilter(filter as never)).toThrow(message);
    try {
      checkEntryFilter(filter as never);
    } catch (error) {
      expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    }
  });
});

describe('the pieces', () => {
  it('reads schema.table and a bare name', () => {
    expect(parseTableName('a.b.c')).toEqual({ schema: 'a', name: 'b.c' });
    expect(parseTableName(' t ')).toEqual({ name: 't' });
  });

  it('keeps microseconds of a time and adds them when absent', () => {
    expect(checkTime('2026-03-01T10:00:00.5Z', 'from')).toBe('2026-03-01T10:00:00.500000Z');
    expect(checkTime('2026-03-01T12:00:00.000001+02:00', 'from')).toBe('2026-03-01T10:00:00.000001Z');
  });

  it('writes key values as text in canonical order', () => {
    expect(keyJson({ b: '2', a: 1 as unknown as string, c: null })).toBe('{"a":"1","b":"2","c":null}');
  });

  it('bounds page sizes', () => {
    expect(checkLimit(10)).toBe(10);
    expect(() => checkLimit(0)).toThrow(/filter limit/);
    expect(() => checkLimit(10_001)).toThrow(/filter limit/);
  });

  it('needs a range, a known bucket and a known grouping for stats', () => {
    expect(checkStatsRequest({ bucket: 'day', groupBy: 'op', from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' }).from).toBe('2026-01-01T00:00:00.000000Z');
    expect(() => checkStatsRequest({ bucket: 'year' as never, groupBy: 'op', from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' })).toThrow(/filter bucket/);
    expect(() => checkStatsRequest({ bucket: 'day', groupBy: 'user' as never, from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' })).toThrow(/filter groupBy/);
  });

  it('refuses more buckets than MAX_STATS_BUCKETS, naming the count and what to do', () => {
    const year = { from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z' };
    expect(() => checkStatsRequest({ bucket: 'minute', groupBy: 'op', ...year })).toThrow(/525600 minute buckets .* at most 2000; take a larger bucket/);
    expect(checkStatsRequest({ bucket: 'hour', groupBy: 'op', from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z' }).to).toBe('2026-03-01T00:00:00.000000Z');
    expect(() => checkStatsRequest({ bucket: 'hour', groupBy: 'op', from: '2026-01-01T00:00:00Z', to: '2026-04-01T00:00:00Z' })).toThrow(/2160 hour buckets/);
    expect(checkStatsRequest({ bucket: 'day', groupBy: 'op', ...year }).from).toBe('2026-01-01T00:00:00.000000Z');
  });
});

describe('checkEntryFilter: traces and tags', () => {
  it('lower-cases the trace id and lists the tags', () => {
    expect(checkEntryFilter({ traceId: '4BF92F3577B34DA6A3CE929D0E0E4736', tags: { user: 'ann', route: '' } })).toMatchObject({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      tags: [{ key: 'user', value: 'ann' }, { key: 'route', value: '' }],
    });
  });

  it('names a bad trace id or an empty tag list', () => {
    expect(() => checkEntryFilter({ traceId: '4bf92f35' })).toThrow(/filter traceId: "4bf92f35" is not a W3C trace id/);
    expect(() => checkEntryFilter({ tags: {} })).toThrow(/filter tags: names no tag/);
  });
});

