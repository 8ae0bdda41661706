import { afterEach, describe, expect, it, vi } from 'vitest';
import { WalauditError } from './errors.js';
import { createReconnectLoop, retryWhileRetriable } from './retry.js';

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

  describe('with fake timers', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('leaves no timer behind once woken: a pending wait must not keep a stopped process alive', async () => {
      vi.useFakeTimers();
      let stopping = false;
      let waiting!: () => void;
      const retried = new Promise<void>((resolve) => (waiting = resolve));
      const loop = createReconnectLoop(async () => Promise.reject(unreachable()), {
        initialMs: 30_000,
        maxMs: 30_000,
        cancelled: () => stopping,
        onRetry: () => waiting(),
      });
      const running = loop.run();
      await retried;
      expect(vi.getTimerCount()).toBe(1);
      stopping = true;
      loop.wake();
      await running;
      expect(vi.getTimerCount()).toBe(0);
    });
  });
});

describe('retryWhileRetriable', () => {
  it('retries while retriable and returns the first result', async () => {
    let calls = 0;
    const result = await retryWhileRetriable(async () => (++calls < 3 ? Promise.reject(unreachable()) : 'done'), { initialMs: 1, maxMs: 2 });
    expect(result).toBe('done');
    expect(calls).toBe(3);
  });

  it('waits its backoff between attempts when nothing can interrupt it', async () => {
    let calls = 0;
    const started = Date.now();
    await retryWhileRetriable(async () => (++calls < 3 ? Promise.reject(unreachable()) : 'done'), { initialMs: 40, maxMs: 40 });
    // Two waits of 20 to 40 ms each (jitter): a retry that does not wait spins through them in microseconds.
    expect(Date.now() - started).toBeGreaterThanOrEqual(38);
  });

  it('ends a long wait when interrupted and gives up with the last error once cancelled', async () => {
    let stopping = false;
    let interrupt!: () => void;
    const interrupted = new Promise<void>((resolve) => (interrupt = resolve));
    const failure = unreachable();
    let calls = 0;
    const retrying = retryWhileRetriable(async () => (calls++, Promise.reject(failure)), {
      initialMs: 60_000,
      maxMs: 60_000,
      cancelled: () => stopping,
      interrupted,
      onRetry: () => {
        stopping = true;
        interrupt();
      },
    });
    const started = Date.now();
    await expect(retrying).rejects.toBe(failure);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(calls).toBe(1);
  });
});
