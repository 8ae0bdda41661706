import { describe, expect, it } from 'vitest';
import { entryOf } from '../../../../test/support/audit-entry-fixture.js';
import { CSV_CASCADE_PARENT, CSV_COLUMNS, CSV_OP, csvRecord } from './csv-records.js';

const byColumn = (record: string[]) => Object.fromEntries(CSV_COLUMNS.map((column, index) => [column, record[index]]));

describe('csvRecord', () => {
  it('shapes an entry into the documented columns', () => {
    const record = csvRecord(entryOf(3), 'parent-1');
    expect(byColumn(record)).toEqual({
      id: '0000000001000000-3',
      commit_time: '2026-03-02T10:00:00.123456Z',
      table: 'public.orders',
      op: 'update',
      primary_key: '{"id":"3"}',
      app_user: 'alice',
      db_user: 'app',
      client_ip: '10.1.2.3',
      application: 'billing',
      reason: 'ticket 12',
      xid: '700',
      lsn: '0/1000000',
      cascade_parent: 'parent-1',
      changed_columns: 'note',
      before: '{"id":"3","note":"old"}',
      after: '{"id":"3","note":"new"}',
      detail: '',
      prev_hash: 'a'.repeat(64),
      hash: 'b'.repeat(64),
    });
    expect(record[CSV_CASCADE_PARENT]).toBe('parent-1');
    expect(record[CSV_OP]).toBe('update');
  });

  it('leaves absent values empty, keys sorted canonically, and says what an action recorded', () => {
    const record = csvRecord(entryOf(1, { op: 'action', pk: null, before: null, after: null, changed: [], actor: { app: { user: 'bob', ip: '192.0.2.9' } }, action: { name: 'export', target: 'orders' } }), undefined);
    expect(byColumn(record)).toMatchObject({ primary_key: '', db_user: '', client_ip: '192.0.2.9', application: '', cascade_parent: '', before: '', after: '', detail: '{"name":"export","target":"orders"}' });
    expect(csvRecord(entryOf(1, { pk: { b: '2', a: '1' } }), undefined)[4]).toBe('{"a":"1","b":"2"}');
  });

  it('writes what an application sent that is not text as its JSON, as the actor filter matches it', () => {
    const record = csvRecord(entryOf(1, { actor: { app: { user: 42 as unknown as string, reason: { ticket: 7 } as unknown as string }, db: { user: 'app', ip: null, applicationName: '', statement: '' } } }), undefined);
    expect(byColumn(record)).toMatchObject({ app_user: '42', reason: '{"ticket":7}', client_ip: '' });
  });
});
