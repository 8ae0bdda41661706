/** Events per second over the last minute, in one-second buckets. */
export class EventRate {
  private readonly buckets = new Map<number, number>();
  private readonly firstSecond = Math.floor(Date.now() / 1000);

  constructor(private readonly windowSeconds = 60) {}

  add(count: number, now = Date.now()): void {
    const second = Math.floor(now / 1000);
    this.buckets.set(second, (this.buckets.get(second) ?? 0) + count);
    for (const key of this.buckets.keys()) if (key <= second - this.windowSeconds) this.buckets.delete(key);
  }

  perSecond(now = Date.now()): number {
    const current = Math.floor(now / 1000);
    let total = 0;
    for (const [second, count] of this.buckets) if (second > current - this.windowSeconds && second < current) total += count;
    // A young process divides by its age, not by the whole window.
    const seconds = Math.max(1, Math.min(this.windowSeconds - 1, current - this.firstSecond));
    return Math.round(total / seconds);
  }
}
