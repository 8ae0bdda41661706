import { describe, expect, it } from 'vitest';
import { alertSummary, integrityAlert, slotLostAlert } from './alert-builder.js';

describe('slotLostAlert', () => {
  const detail = { slot: 'walaudit', source: 'db.example:5432/shop', walStatus: 'lost', invalidationReason: 'wal_removed', confirmedLsn: '0/1A2B3C4' };

  it('says which slot, why, since where, and the next step', () => {
    const alert = slotLostAlert(detail, Date.parse('2026-12-04T10:00:00Z'));
    expect(alert).toMatchObject({ kind: 'slot-lost', status: 'open', version: 1, tables: [], rows: 0, slotLoss: detail, raisedAt: '2026-12-04T10:00:00.000Z' });
    expect(alertSummary(alert)).toBe(
      `[walaudit] slot lost: Postgres invalidated replication slot walaudit on db.example:5432/shop (wal_status lost, invalidation_reason wal_removed); changes after 0/1A2B3C4 were never audited; run walaudit setup --recreate-lost-slot; alert ${alert.id}`,
    );
  });

  it('keeps one id per loss, whenever it is raised', () => {
    expect(slotLostAlert(detail, 1).id).toBe(slotLostAlert(detail, 2).id);
    expect(slotLostAlert({ ...detail, confirmedLsn: '0/1A2B3C5' }).id).not.toBe(slotLostAlert(detail).id);
  });
});

describe('integrityAlert', () => {
  const detail = { chain: 'p0/r90', message: 'chain p0/r90: entries after A through B are missing', checkpointFile: '/var/log/walaudit/checkpoints.jsonl' };

  it('names the chain and the finding, with an id stable for one finding', () => {
    const alert = integrityAlert(detail, Date.parse('2026-12-05T09:00:00Z'));
    expect(alert.kind).toBe('integrity');
    expect(alert.id).toBe(integrityAlert(detail, Date.parse('2026-12-06T09:00:00Z')).id);
    expect(alert.id).not.toBe(integrityAlert({ ...detail, chain: 'p0/r0' }).id);
    expect(alertSummary(alert)).toBe(`[walaudit] integrity: the store contradicts its signed checkpoints (/var/log/walaudit/checkpoints.jsonl): ${detail.message}; walaudit refused to append; alert ${alert.id}`);
  });
});
