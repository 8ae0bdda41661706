import { describe, expect, it } from 'vitest';
import { filterInWords } from './filter-in-words.js';

describe('filterInWords', () => {
  it('says every entry for no filter', () => {
    expect(filterInWords({})).toBe('every entry');
  });

  it('names each condition, lists with "or"', () => {
    expect(filterInWords({ tables: ['public.orders', 'lines', 'items'], ops: ['delete'], actor: 'alice', from: '2026-03-01T00:00:00Z', to: '2026-04-01T00:00:00Z' })).toBe(
      'entries table public.orders, lines or items; operation delete; by alice (application or database user); committed from 2026-03-01T00:00:00Z up to (not including) 2026-04-01T00:00:00Z',
    );
  });

  it('names one row by its key instead of its table', () => {
    expect(filterInWords({ tables: ['public.orders'], key: { table: 'public.orders', pk: { id: '42' } }, xid: 7 })).toBe('entries the row of public.orders with key id=42; in transaction 7');
  });

  it('says an open range with its one end', () => {
    expect(filterInWords({ to: '2026-04-01T00:00:00Z', clientIp: '10.0.0.1', application: 'psql', text: 'x' })).toBe(
      'entries from client address 10.0.0.1; through application psql; committed before 2026-04-01T00:00:00Z; with "x" in a value before or after the change',
    );
  });
});
