import { describe, expect, it } from 'vitest';
import { AUDIT_EVERYTHING, REDACTED, type AuditedEvent } from './audit-rule.js';
import type { AuditedSink } from './audited-sink.types.js';
import type { ChangeEvent } from './change-event.types.js';
import type { TransactionEnd } from './change-source.types.js';
import { eventId } from './event-id.js';
import { withAuditRules } from './with-audit-rules.js';

function event(lsn: bigint, xid: number, seq: number, table = 'orders'): ChangeEvent {
  return {
    id: eventId(lsn, seq),
    op: 'insert',
    schema: 'public',
    table,
    keyKind: 'primary-key',
    pk: { id: String(seq) },
    columns: [{ name: 'id', type: 'int4', typeOid: 23 }, { name: 'card', type: 'text', typeOid: 25 }],
    before: null,
    after: { id: String(seq), card: '4111 1111 1111 1111' },
    changed: [],
    tx: { xid, lsn: `0/${lsn.toString(16).toUpperCase()}`, commitTime: '2026-01-01T00:00:00.000000Z', seq },
    actor: {},
  };
}

function recordingSink() {
  const writes: { events: readonly AuditedEvent[]; ends: readonly TransactionEnd[] }[] = [];
  const sink: AuditedSink = { write: async (events, ends) => void writes.push({ events, ends }) };
  return { sink, writes };
}

const rules = {
  rules: [
    { ...AUDIT_EVERYTHING, tables: ['skipped'], audit: false },
    { ...AUDIT_EVERYTHING, tables: ['orders'], mask: [{ column: 'card', mode: 'redact' as const }], retentionDays: 30 },
    AUDIT_EVERYTHING,
  ],
  defaultRetentionDays: 7,
};

describe('withAuditRules', () => {
  it('passes on only what the rules keep, masked, with the ends of the transactions it kept events of', async () => {
    const { sink, writes } = recordingSink();
    const dropped: number[] = [];
    const ruled = withAuditRules(sink, rules, (n) => dropped.push(n));
    expect(ruled.wantsTransactionEnds).toBe(true);
    // Transaction 1 spans two writes; 2 has only dropped changes; 3 is whole in the second write.
    await ruled.write([event(0x100n, 1, 0), event(0x100n, 1, 1, 'skipped')]);
    await ruled.write([event(0x100n, 1, 2, 'lines'), event(0x200n, 2, 0, 'skipped'), event(0x300n, 3, 0, 'lines')], [{ events: 3 }, { events: 1 }, { events: 1 }]);
    await ruled.write([], []);
    expect(writes.map((w) => w.events.map((a) => a.event.id))).toEqual([[eventId(0x100n, 0)], [eventId(0x100n, 2), eventId(0x300n, 0)], []]);
    expect(writes.map((w) => w.ends)).toEqual([[], [{ events: 2 }, { events: 1 }], []]);
    expect(writes[0]!.events[0]).toMatchObject({ retentionDays: 30, event: { after: { card: REDACTED } } });
    expect(writes[1]!.events[1]).toMatchObject({ retentionDays: 7, event: { after: { card: '4111 1111 1111 1111' } } });
    expect(dropped).toEqual([1, 1, 0]);
  });

  it('counts nothing dropped when the write fails', async () => {
    const dropped: number[] = [];
    const ruled = withAuditRules({ write: async () => Promise.reject(new Error('broker gone')) }, rules, (n) => dropped.push(n));
    await expect(ruled.write([event(0x100n, 1, 0, 'skipped')], [{ events: 1 }])).rejects.toThrow('broker gone');
    expect(dropped).toEqual([]);
  });

  it('refuses more ends than transactions seen', async () => {
    const ruled = withAuditRules(recordingSink().sink, rules);
    await expect(ruled.write([], [{ events: 1 }])).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});
