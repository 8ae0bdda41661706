import { describe, expect, it } from 'vitest';
import { entryFilterOfParams } from './entry-filter-params.js';

describe('entryFilterOfParams', () => {
  it('reads repeated and comma lists, the key with its one table, and ignores paging', () => {
    const params = new URLSearchParams('table=a,b&op=delete&op=update,insert&actor=ann&pk={"id":"3"}&limit=5&cursor=x');
    expect(() => entryFilterOfParams(params)).toThrow(/pk needs exactly one table/);
    params.delete('table');
    params.append('table', 'public.users');
    expect(entryFilterOfParams(params)).toEqual({ tables: ['public.users'], ops: ['delete', 'update', 'insert'], actor: 'ann', key: { table: 'public.users', pk: { id: '3' } } });
  });

  it('names the bad parameter', () => {
    expect(() => entryFilterOfParams(new URLSearchParams('op=drop'))).toThrow(/^op\.0: /);
    expect(() => entryFilterOfParams(new URLSearchParams('xid=minus'))).toThrow(/^xid: /);
  });

  it('reads the trace id and repeated tags, never splitting a tag at its commas', () => {
    const params = new URLSearchParams();
    params.set('traceId', '4BF92F3577B34DA6A3CE929D0E0E4736');
    params.append('tag', 'route=/a,b');
    params.append('tag', 'user=ann=x');
    expect(entryFilterOfParams(params)).toEqual({ traceId: '4BF92F3577B34DA6A3CE929D0E0E4736', tags: { route: '/a,b', user: 'ann=x' } });
  });

  it('refuses a malformed trace id or tag, and a tag given twice', () => {
    expect(() => entryFilterOfParams(new URLSearchParams('traceId=xyz'))).toThrow(/^traceId: a W3C trace id is 32 hex digits/);
    expect(() => entryFilterOfParams(new URLSearchParams('tag=user'))).toThrow(/"user" is not key=value/);
    expect(() => entryFilterOfParams(new URLSearchParams('tag==x'))).toThrow(/is not key=value/);
    expect(() => entryFilterOfParams(new URLSearchParams('tag=user=a&tag=user=b'))).toThrow(/tag user is given twice/);
  });
});
