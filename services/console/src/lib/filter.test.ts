import { describe, expect, it } from 'vitest';
import { filterFromSearch, filterToSearch, isoToLocalInput, localInputToIso } from './filter.js';

describe('the log filter in the URL', () => {
  it('round-trips every parameter and drops empty ones', () => {
    const search = filterToSearch({ table: 'public.orders', op: 'delete', actor: '', text: 'ann', xid: '812' });
    expect(search).toBe('table=public.orders&op=delete&xid=812&text=ann');
    expect(filterFromSearch(search)).toEqual({ table: 'public.orders', op: 'delete', xid: '812', text: 'ann' });
  });
  it('joins repeated parameters as the API does', () => {
    expect(filterFromSearch('table=a&table=b&op=insert')).toEqual({ table: 'a,b', op: 'insert' });
  });
  it('ignores what is not a filter, and adds extras such as the cursor', () => {
    expect(filterFromSearch('cursor=p1.x&table=a')).toEqual({ table: 'a' });
    expect(filterToSearch({ table: 'a' }, { cursor: 'p1.x', none: undefined })).toBe('table=a&cursor=p1.x');
  });
  it('converts local input times to UTC and back', () => {
    const iso = localInputToIso('2026-03-01T10:30');
    expect(iso).toMatch(/^2026-03-0[12]T\d{2}:30:00Z$/);
    expect(isoToLocalInput(iso)).toBe('2026-03-01T10:30');
    expect(localInputToIso('')).toBeUndefined();
  });
});
