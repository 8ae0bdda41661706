import { describe, expect, it } from 'vitest';
import { BulkDeleteWindow } from './bulk-delete-window.js';
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
});
