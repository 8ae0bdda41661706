import { afterEach, describe, expect, it, vi } from 'vitest';
import { armStopDeadline, STOP_DEADLINE_EXIT_CODE, STOP_DEADLINE_MS } from './stop-deadline.js';

describe('armStopDeadline', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('exits with an error code and says why once the deadline passes', () => {
    vi.useFakeTimers();
    const lines: string[] = [];
    const exits: number[] = [];
    armStopDeadline('SIGTERM', { error: (line) => lines.push(line) }, { exit: (code) => exits.push(code) });
    vi.advanceTimersByTime(STOP_DEADLINE_MS - 1);
    expect(exits).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(exits).toEqual([STOP_DEADLINE_EXIT_CODE]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/still running 10 s after SIGTERM: exiting now/);
  });

  it('does not keep the process alive by itself', () => {
    const timer = armStopDeadline('SIGINT', { error: () => {} }, { ms: 60_000, exit: () => {} });
    expect(timer.hasRef()).toBe(false);
    clearTimeout(timer);
  });
});
