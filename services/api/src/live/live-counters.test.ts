import { describe, expect, it } from 'vitest';
import type { PipelineStatus } from '@walaudit/core';
import { createCountersSource, openAlertCounts } from './live-counters.js';

const status = { state: 'running', slotActive: true, lagBytes: 120, slotLost: null, entriesStored: 7 } as unknown as PipelineStatus;

describe('live counters', () => {
  it('names every kind of alert, 0 when none, with the total', () => {
    expect(openAlertCounts({ 'critical-table': 2, 'bulk-delete': 1 })).toEqual({ total: 3, byKind: { 'bulk-delete': 1, 'critical-table': 2, 'slot-lost': 0, integrity: 0 } });
    expect(openAlertCounts({})).toEqual({ total: 0, byKind: { 'bulk-delete': 0, 'critical-table': 0, 'slot-lost': 0, integrity: 0 } });
  });

  it('asks the store for alert counts after an alert event or once they are old, not every read', async () => {
    const clock = { now: 0 };
    let asked = 0;
    const source = createCountersSource({ status: async () => status, openCounts: async () => ({ 'bulk-delete': ++asked }), alertCountsMaxAgeMs: 10_000, now: () => clock.now });
    expect(await source.read()).toEqual({ openAlerts: { total: 1, byKind: { 'bulk-delete': 1, 'critical-table': 0, 'slot-lost': 0, integrity: 0 } }, entriesStored: 7, pipeline: { state: 'running', slotActive: true, lagBytes: 120, slotLost: false } });
    clock.now = 5_000;
    await source.read();
    expect(asked).toBe(1);
    source.alertsChanged();
    expect((await source.read()).openAlerts?.total).toBe(2);
    clock.now = 15_000;
    expect((await source.read()).openAlerts?.total).toBe(3);
  });

  it('asks again after a failed read, and has no alert counts where alerts are disabled', async () => {
    let fail = true;
    const source = createCountersSource({ status: async () => status, openCounts: async () => { if (fail) throw new Error('store down'); return {}; }, alertCountsMaxAgeMs: 10_000, now: () => 0 });
    await expect(source.read()).rejects.toThrow('store down');
    fail = false;
    expect((await source.read()).openAlerts?.total).toBe(0);
    const none = createCountersSource({ status: async () => status, alertCountsMaxAgeMs: 10_000 });
    expect((await none.read()).openAlerts).toBeNull();
  });
});
