import { describe, expect, it } from 'vitest';
import { checkEntryFilter } from '@walaudit/core';
import { filterSql } from './entry-filter-sql.js';

describe('filterSql: traces and tags', () => {
  it('passes the trace id and each tag as parameters, never spliced into the SQL', () => {
    const { conditions, params } = filterSql(checkEntryFilter({ traceId: '4BF92F3577B34DA6A3CE929D0E0E4736', tags: { user: "o'brien", route: '' } }));
    expect(conditions).toEqual([
      'trace_id = {trace_id:String}',
      'has(mapValues(tags), {tag_value_0:String})',
      'tags[{tag_key_0:String}] = {tag_value_0:String}',
      'mapContains(tags, {tag_key_0:String})',
      'has(mapValues(tags), {tag_value_1:String})',
      'tags[{tag_key_1:String}] = {tag_value_1:String}',
      'mapContains(tags, {tag_key_1:String})',
    ]);
    expect(params).toEqual({ trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', tag_key_0: 'user', tag_value_0: "o'brien", tag_key_1: 'route', tag_value_1: '' });
  });
});
