import { describe, expect, it } from 'vitest';
import { AuthFailures } from './auth-failures.js';

describe('AuthFailures', () => {
  it('blocks an address past the limit until its minute ends, others not', () => {
    const failures = new AuthFailures(2);
    failures.failed('10.0.0.1', 0);
    expect(failures.blocked('10.0.0.1', 1)).toBe(false);
    failures.failed('10.0.0.1', 2);
    expect(failures.blocked('10.0.0.1', 3)).toBe(true);
    expect(failures.blocked('10.0.0.2', 3)).toBe(false);
    expect(failures.blocked('10.0.0.1', 60_001)).toBe(false);
  });

  it('says how many seconds remain of the blocked window, at least one', () => {
    const failures = new AuthFailures(1);
    failures.failed('10.0.0.1', 1_000);
    expect(failures.retryAfterSeconds('10.0.0.1', 1_000)).toBe(60);
    expect(failures.retryAfterSeconds('10.0.0.1', 30_500)).toBe(31);
    expect(failures.retryAfterSeconds('10.0.0.1', 60_999)).toBe(1);
    expect(failures.retryAfterSeconds('10.0.0.9', 2_000)).toBe(1);
  });
});
