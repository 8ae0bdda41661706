import { describe, expect, it } from 'vitest';
import type { Alert } from '@walaudit/core';
import { formatSyslog } from './syslog-notifier.js';
import { notificationText } from './webhook-notifier.js';

const alert: Alert = {
  id: 'abcdefabcdef', kind: 'bulk-delete', version: 3, status: 'open',
  actor: { name: 'eve "the] admin\\', appUser: 'eve "the] admin\\', dbUser: 'app', ip: null, applicationName: null },
  tables: [{ table: 'public.orders', rows: 70, allRows: false }, { table: 'public.audit', rows: 0, allRows: true }],
  rows: 70, allRows: true, window: { minutes: 10, threshold: 50, start: '2026-11-24T10:00:00Z' }, xid: null, xids: [1, 2], transactions: 2,
  firstCommitTime: '2026-11-24T10:00:00Z', lastCommitTime: '2026-11-24T10:01:00Z', firstEntryId: '0000000000000001-0', lastEntryId: '0000000000000002-69',
  keys: [], raisedAt: '2026-11-24T10:00:01Z', updatedAt: '2026-11-24T10:01:01Z', acknowledgement: null,
};

describe('syslog format (RFC 5424)', () => {
  it('escapes ", \\ and ] in structured data values', () => {
    const line = formatSyslog(alert, 'raised', new Date('2026-11-24T10:01:02.003Z'));
    expect(line).toMatch(/^<132>1 2026-11-24T10:01:02\.003Z \S+ walaudit \d+ bulk-delete \[walaudit@32473 /);
    expect(line).toContain('actor="eve \\"the\\] admin\\\\"');
    expect(line).toContain('tables="public.orders,public.audit"');
  });

  it('uses severity notice for acknowledgements', () => {
    expect(formatSyslog({ ...alert, acknowledgement: { by: 'dana', at: alert.raisedAt, note: '' } }, 'acknowledged')).toMatch(/^<133>1 /);
  });
});

describe('notification text', () => {
  it('says TRUNCATE as all rows, and marks updates and acknowledgements', () => {
    expect(notificationText(alert, 'raised')).toBe('[walaudit] bulk delete: eve "the] admin\\ deleted 70 rows and truncated within 10 min (threshold 50): public.orders 70 rows, public.audit ALL rows (TRUNCATE); alert abcdefabcdef');
    expect(notificationText(alert, 'updated')).toMatch(/^\(update\) \[walaudit\]/);
    expect(notificationText({ ...alert, acknowledgement: { by: 'dana', at: '', note: 'ok' } }, 'acknowledged')).toMatch(/^\(acknowledged by dana: ok\) /);
  });
});
