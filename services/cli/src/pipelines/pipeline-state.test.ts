import { describe, expect, it } from 'vitest';
import { createPipelineMetrics } from '@walaudit/api';
import { WalauditError } from '@walaudit/core';
import type { SlotMonitor } from '@walaudit/pg';
import { PipelineState, type SlotState } from './pipeline-state.js';

const labels = { source: 'db.example:5432/app', store: 'embedded ClickHouse (chDB) in /tmp/x', slot: 'walaudit' };

describe('PipelineState', () => {
  it('reports what it was fed, and keeps walaudit_up in step with the state', async () => {
    const metrics = createPipelineMetrics();
    const state = new PipelineState(metrics, labels);
    state.running();
    state.decoded(10);
    state.stored(8);
    state.recordError(new WalauditError('STORE_UNREACHABLE', 'ClickHouse at http://ch:8123 refused the connection'));
    state.retrying();
    const retrying = await state.status();
    expect(retrying).toMatchObject({ state: 'retrying', source: labels.source, store: labels.store, slot: 'walaudit', eventsTotal: 10, entriesStored: 8, slotExists: false, confirmedLsn: null });
    expect(retrying.lastError).toMatchObject({ code: 'STORE_UNREACHABLE' });
    expect((await metrics.up.get()).values[0]?.value).toBe(0);
    state.resumed();
    expect((await state.status()).state).toBe('running');
    expect((await metrics.up.get()).values[0]?.value).toBe(1);
  });

  it('a stored batch after a stop does not make the process look running again', async () => {
    const state = new PipelineState(createPipelineMetrics(), labels);
    state.stopped();
    state.resumed();
    expect((await state.status()).state).toBe('stopped');
  });

  it('reports a lost slot in /status and the walaudit_slot_lost gauge', async () => {
    const metrics = createPipelineMetrics();
    const seen: SlotState[] = [];
    const state = new PipelineState(metrics, labels, (slot) => seen.push(slot));
    const lost = { walStatus: 'lost', invalidationReason: 'wal_removed' };
    const slot: SlotState = { slot: 'walaudit', exists: true, active: false, activePid: null, confirmedLsn: 100n, serverLsn: 900n, lagBytes: 800, retainedBytes: 0, lost, atRisk: null };
    state.monitor = { state: async () => slot } as unknown as SlotMonitor;
    await state.checkSlot();
    expect((await state.status()).slotLost).toEqual(lost);
    expect((await metrics.slotLost.get()).values[0]?.value).toBe(1);
    expect(seen).toHaveLength(1);
  });

  it('warns once a minute while the slot is unreserved, and names partitions needing setup once per new set', async () => {
    const metrics = createPipelineMetrics();
    const state = new PipelineState(metrics, labels);
    const warnings: string[] = [];
    state.warn = (line) => warnings.push(line);
    state.publication = 'walaudit';
    const atRisk = { walStatus: 'unreserved', safeWalBytes: -10, message: 'replication slot walaudit is about to be lost' };
    let partitions = ['public.readings_us'];
    const slot: SlotState = { slot: 'walaudit', exists: true, active: true, activePid: 7, confirmedLsn: 100n, serverLsn: 900n, lagBytes: 800, retainedBytes: 800, lost: null, atRisk };
    state.monitor = { state: async () => slot, unpreparedPartitions: async () => partitions } as unknown as SlotMonitor;
    await state.checkSlot(true);
    await state.checkSlot(true);
    expect(warnings).toEqual(['replication slot walaudit is about to be lost', expect.stringContaining('partition public.readings_us was added after')]);
    expect(await state.status()).toMatchObject({ slotAtRisk: atRisk, unpreparedPartitions: ['public.readings_us'] });
    expect((await metrics.slotUnreserved.get()).values[0]?.value).toBe(1);
    expect((await metrics.partitionsNeedingSetup.get()).values[0]?.value).toBe(1);
    partitions = [];
    await state.checkSlot(true);
    expect((await state.status()).unpreparedPartitions).toEqual([]);
    expect((await metrics.partitionsNeedingSetup.get()).values[0]?.value).toBe(0);
  });
});
