import type { AuditEntry } from '@walaudit/core';

/** An entry as the store returns it, for unit tests of what is made of entries (exports, CSV records). */
export function entryOf(seq: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    id: `0000000001000000-${seq}`,
    op: 'update',
    schema: 'public',
    table: 'orders',
    keyKind: 'primary-key',
    pk: { id: String(seq) },
    columns: [
      { name: 'id', type: 'int4', typeOid: 23 },
      { name: 'note', type: 'text', typeOid: 25 },
    ],
    before: { id: String(seq), note: 'old' },
    after: { id: String(seq), note: 'new' },
    changed: ['note'],
    tx: { xid: 700, lsn: '0/1000000', commitTime: '2026-03-02T10:00:00.123456Z', seq },
    actor: { app: { user: 'alice', reason: 'ticket 12' }, db: { user: 'app', ip: '10.1.2.3', applicationName: 'billing', statement: 'UPDATE orders ...' } },
    prevHash: 'a'.repeat(64),
    hash: 'b'.repeat(64),
    retentionDays: 90,
    critical: false,
    ...overrides,
  };
}
