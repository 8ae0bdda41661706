import { describe, expect, it } from 'vitest';
import { addDeletion, mergeWindowStates } from './window-step.js';
import { deletion } from '../../../../test/support/window-store-behaviour.js';

const RULE = { threshold: 50, windowMs: 600_000 };
const T0 = Date.parse('2026-11-24T10:00:00Z');

describe('addDeletion', () => {
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
