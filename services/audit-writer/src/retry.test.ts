import { describe, expect, it } from 'vitest';
import { WalauditError } from '@walaudit/core';
import { createReconnectLoop } from './retry.js';

const unreachable = () => new WalauditError('PG_UNREACHABLE', 'connection refused', { retriable: true });

describe('createReconnectLoop', () => {
  it('starts a new session after each retriable failure, with backoff, until cancelled', async () => {
    let stopping = false;
    const sessions: number[] = [];
    const delays: number[] = [];
    const loop = createReconnectLoop(
      async () => {
        sessions.push(sessions.length);
        if (sessions.length < 3) throw unreachable();
        stopping = true;
      },
      { initialMs: 1, maxMs: 4, cancelled: () => stopping, onRetry: (_attempt, delayMs) => delays.push(delayMs) },
    );
    await loop.run();
    expect(sessions).toEqual([0, 1, 2]);
    expect(delays).toHaveLength(2);
    expect(delays.every((delay) => delay >= 0 && delay <= 4)).toBe(true);
  });

  it('rejects with the first failure that is not retriable, after reporting it', async () => {
    const seen: unknown[] = [];
    const fatal = new WalauditError('PG_SLOT_MISSING', 'run walaudit setup');
    const loop = createReconnectLoop(async () => Promise.reject(fatal), { initialMs: 1, maxMs: 1, cancelled: () => false, onError: (error) => seen.push(error) });
    await expect(loop.run()).rejects.toBe(fatal);
    expect(seen).toEqual([fatal]);
  });

  it('wake() ends a long wait at once when the caller stops', async () => {
    let stopping = false;
    const loop = createReconnectLoop(async () => Promise.reject(unreachable()), {
      initialMs: 60_000,
      maxMs: 60_000,
      cancelled: () => stopping,
      onRetry: () => {
        stopping = true;
        setTimeout(() => loop.wake(), 10);
      },
    });
    const started = Date.now();
    await loop.run();
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
