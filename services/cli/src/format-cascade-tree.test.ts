import { describe, expect, it } from 'vitest';
import type { CascadeLink } from '@walaudit/core';
import { formatCascadeTree } from './format-cascade-tree.js';

const link = (entryId: string, parentEntryId: string, table: string, key: Record<string, string>, seq: number, kind: CascadeLink['kind'] = 'cascade'): CascadeLink => ({
  entryId, kind, schema: 'public', table, key, xid: 7, lsn: '0/1', seq, constraint: `${table}_fk`, parentEntryId, parentSchema: 'public', parentTable: 'x', parentKey: {},
  rootEntryId: 'r', rootSchema: 'public', rootTable: 'customers', depth: 1,
});

describe('formatCascadeTree', () => {
  it('draws children under their parent, in log order', () => {
    const lines = formatCascadeTree(null, 'r', [
      link('b', 'a', 'order_lines', { id: '100' }, 3),
      link('a', 'r', 'orders', { id: '10' }, 1),
      link('n', 'a', 'notes', { id: '5' }, 2, 'set-null'),
      link('c', 'r', 'orders', { id: '11' }, 4),
    ]);
    expect(lines).toEqual([
      'entry  id r',
      '├─ public.orders id=10  CASCADE by orders_fk  id a',
      '│  ├─ public.notes id=5  SET NULL by notes_fk  id n',
      '│  └─ public.order_lines id=100  CASCADE by order_lines_fk  id b',
      '└─ public.orders id=11  CASCADE by orders_fk  id c',
      '3 rows removed, 1 set to NULL because of this entry',
    ]);
  });
});
