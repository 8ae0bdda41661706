import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../change-event.types.js';
import { recordVersion, updateChanges } from './entry-changes.js';

function entry(rest: Partial<AuditEntry>): AuditEntry {
  return {
    id: '0000000000001000-0', op: 'update', schema: 'public', table: 'users', keyKind: 'primary-key', pk: { id: '1' },
    columns: [{ name: 'id', type: 'int4', typeOid: 23 }, { name: 'email', type: 'text', typeOid: 25 }, { name: 'note', type: 'text', typeOid: 25 }],
    before: null, after: null, changed: [], tx: { xid: 1, lsn: '0/1000', commitTime: '2026-03-01T10:00:00.000000Z', seq: 0 }, actor: {},
    prevHash: '', hash: '', retentionDays: 0, critical: false, ...rest,
  };
}

describe('updateChanges', () => {
  it('lists the changed columns with old and new text', () => {
    const update = entry({ before: { id: '1', email: 'a@x', note: null }, after: { id: '1', email: 'b@x', note: 'hi' }, changed: ['email', 'note'] });
    expect(updateChanges(update)).toEqual([
      { column: 'email', before: 'a@x', after: 'b@x' },
      { column: 'note', before: null, after: 'hi' },
    ]);
  });

  it('compares the images when the entry does not say', () => {
    expect(updateChanges(entry({ before: { id: '1', email: 'a', note: 'x' }, after: { id: '1', email: 'a', note: 'y' } }))).toEqual([{ column: 'note', before: 'x', after: 'y' }]);
  });

  it('is empty for anything but an update', () => {
    expect(updateChanges(entry({ op: 'insert', after: { id: '1' } }))).toEqual([]);
  });
});

describe('recordVersion', () => {
  it('tells a restore from an insert by the restorer\'s audit context', () => {
    const restored = recordVersion(entry({ op: 'insert', after: { id: '1' }, actor: { app: { user: 'walaudit-restore', requestedBy: 'dba', reason: 'restore entry x', restoreJob: 'j1' } } }));
    expect(restored).toMatchObject({ kind: 'restored', row: { id: '1' }, restore: { requestedBy: 'dba', reason: 'restore entry x', job: 'j1' } });
    expect(recordVersion(entry({ op: 'insert', after: { id: '1' }, actor: { app: { user: 'bob' } } }))).toMatchObject({ kind: 'created' });
    expect(recordVersion(entry({ op: 'delete', before: { id: '1' } }))).toMatchObject({ kind: 'deleted', row: null });
  });
});
