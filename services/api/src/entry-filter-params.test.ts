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
});
