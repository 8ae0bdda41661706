const WINDOW_MS = 60_000;

/**
 * Failed authentications per address in fixed one-minute windows: past the limit, the address is
 * refused until its window ends, so guessing tokens costs a minute per handful of guesses.
 */
export class AuthFailures {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(private readonly perMinute: number) {}

  blocked(address: string, now = Date.now()): boolean {
    const window = this.windows.get(address);
    return window !== undefined && now - window.start < WINDOW_MS && window.failures >= this.perMinute;
  }

  /** Whole seconds until a blocked address's window ends (at least 1): its `Retry-After`. */
  retryAfterSeconds(address: string, now = Date.now()): number {
    const window = this.windows.get(address);
    if (!window) return 1;
    return Math.max(1, Math.ceil((window.start + WINDOW_MS - now) / 1000));
  }

  failed(address: string, now = Date.now()): void {
    const window = this.windows.get(address);
    if (!window || now - window.start >= WINDOW_MS) {
      if (this.windows.size > 10_000) this.prune(now);
      this.windows.set(address, { start: now, failures: 1 });
    } else window.failures += 1;
  }

  private prune(now: number): void {
    for (const [address, window] of this.windows) if (now - window.start >= WINDOW_MS) this.windows.delete(address);
  }
}
