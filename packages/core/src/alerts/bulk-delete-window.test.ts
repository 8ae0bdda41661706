import { describe, expect, it } from 'vitest';
import { BulkDeleteWindow } from './bulk-delete-window.js';
import { addDeletion, mergeWindowStates } from './window-step.js';
import { deletion, describeWindowStore } from '../../../../test/support/window-store-behaviour.js';

describeWindowStore('in-memory', async () => {
  const shared = new BulkDeleteWindow();
  return { a: shared, b: shared, close: () => shared.close() };
});

const RULE = { threshold: 50, windowMs: 600_000 };
const T0 = Date.parse('2026-11-24T10:00:00Z');

describe('BulkDeleteWindow memory', () => {
  it('forgets actors that stopped deleting more than a window ago', async () => {
    const window = new BulkDeleteWindow();
    for (let i = 0; i < 500; i++) await window.add(`actor-${i}`, deletion(1, T0), RULE);
    for (let i = 0; i < 1000; i++) await window.add('late', deletion(1, T0 + 3_600_000 + i), { threshold: 0, windowMs: 600_000 });
    await window.add('late', deletion(1, T0 + 3_700_000), RULE);
    expect(window.size).toBeLessThanOrEqual(1);
  });

  it('holds at most one bucket per second of commit time', () => {
    let state = null;
    for (let i = 0; i < 5000; i++) state = addDeletion(state, 'k', deletion(0, T0 + i * 100), RULE).state;
    expect(state!.buckets.length).toBeLessThanOrEqual(501);
  });
});

describe('mergeWindowStates', () => {
  it('adds up buckets and keeps an alert raised locally', () => {
    const shared = addDeletion(null, 'k', deletion(30, T0), RULE).state;
    const local = addDeletion(null, 'k', deletion(30, T0 + 1000), RULE).state;
    const merged = mergeWindowStates(shared, local);
    expect(merged.buckets.reduce((sum, bucket) => sum + bucket.rows, 0)).toBe(60);
    const raised = addDeletion(null, 'k', deletion(80, T0), RULE).state;
    expect(mergeWindowStates(null, raised).open?.rows).toBe(80);
  });
});
