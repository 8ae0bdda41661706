import { describeError, isWalauditError, type Alert, backoffDelayMs, type AlertEvent, type Notifier } from '@walaudit/core';
import type { AlertMetrics } from './alert-metrics.js';

export interface DeliveryPolicy {
  attempts: number;
  timeoutMs: number;
  initialMs: number;
  maxMs: number;
}

interface Pending {
  alert: Alert;
  event: AlertEvent;
  queuedAt: number;
}

const MAX_QUEUED = 10_000;

/**
 * One channel's deliveries, in order, each retried with exponential backoff. Each channel has its
 * own queue and loop, so a channel that times out delays only itself; enqueue() never waits, so
 * the pipeline never waits for a notifier.
 */
export class DeliveryQueue {
  private readonly pending: Pending[] = [];
  private running: Promise<void> | null = null;
  private closed = false;
  private readonly abort = new AbortController();
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly notifier: Notifier,
    private readonly policy: DeliveryPolicy,
    private readonly metrics: AlertMetrics,
    private readonly log: (line: string) => void,
  ) {}

  get channel(): string {
    return this.notifier.channel;
  }

  enqueue(alert: Alert, event: AlertEvent): void {
    if (this.closed) return;
    // A newer state of the same alert replaces a queued update: one message with the latest counts.
    const queued = event === 'updated' ? this.pending.findIndex((item) => item.alert.id === alert.id && item.event === 'updated') : -1;
    if (queued >= 0) this.pending[queued] = { alert, event, queuedAt: this.pending[queued]!.queuedAt };
    else this.pending.push({ alert, event, queuedAt: Date.now() });
    if (this.pending.length > MAX_QUEUED) {
      const dropped = this.pending.shift()!;
      this.metrics.deliveries.inc({ channel: this.channel, outcome: 'dropped' });
      this.log(`${this.channel}: queue full (${MAX_QUEUED}), dropped the ${dropped.event} notification of alert ${dropped.alert.id} (still stored; see walaudit alerts)`);
    }
    this.metrics.queued.set({ channel: this.channel }, this.pending.length);
    this.kick();
  }

  private kick(): void {
    if (this.running) return;
    this.running = this.drain().finally(() => {
      this.running = null;
      // Something queued between the loop's last check and here: keep going.
      if (this.pending.length > 0 && !this.closed) return this.kick();
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    });
  }

  /** Resolves when nothing is queued or in flight (tests, clean shutdown). */
  idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops after the notification in flight; what is still queued is logged, not sent. */
  async close(graceMs = 2_000): Promise<void> {
    const drained = this.idle();
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
    this.closed = true;
    this.abort.abort();
    if (this.pending.length > 0) this.log(`${this.channel}: ${this.pending.length} notifications not sent at shutdown (the alerts are stored)`);
    this.pending.length = 0;
    await this.notifier.close?.();
  }

  private async drain(): Promise<void> {
    while (!this.closed && this.pending.length > 0) {
      const item = this.pending.shift()!;
      this.metrics.queued.set({ channel: this.channel }, this.pending.length);
      await this.deliver(item);
    }
  }

  private async deliver(item: Pending): Promise<void> {
    const channel = this.channel;
    for (let attempt = 1; ; attempt++) {
      const attemptSignal = this.attemptSignal();
      try {
        await this.notifier.send(item.alert, item.event, attemptSignal.signal);
        this.metrics.attempts.inc({ channel, result: 'ok' });
        this.metrics.deliveries.inc({ channel, outcome: 'delivered' });
        this.metrics.deliverySeconds.observe({ channel }, (Date.now() - item.queuedAt) / 1000);
        return;
      } catch (error) {
        this.metrics.attempts.inc({ channel, result: 'error' });
        const retriable = !isWalauditError(error) || error.retriable;
        if (this.closed || !retriable || attempt >= this.policy.attempts) {
          this.metrics.deliveries.inc({ channel, outcome: 'failed' });
          this.log(`${channel}: ${item.event} notification of alert ${item.alert.id} failed after ${attempt} attempt(s)${retriable ? '' : ' (rejected, not retried)'}: ${describeError(error)}`);
          return;
        }
        const delay = backoffDelayMs(attempt, { initialMs: this.policy.initialMs, maxMs: this.policy.maxMs });
        await new Promise((resolve) => setTimeout(resolve, delay));
      } finally {
        attemptSignal.done();
      }
    }
  }

  /**
   * One attempt's signal: aborted at the timeout or when the queue closes. Not
   * AbortSignal.any([..., AbortSignal.timeout()]): on Node 20 the timeout signal inside the
   * composite can be garbage-collected before it fires, and a hanging channel then never times out.
   */
  private attemptSignal(): { signal: AbortSignal; done(): void } {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException(`no answer within ${this.policy.timeoutMs} ms`, 'TimeoutError')), this.policy.timeoutMs);
    const onClose = () => controller.abort(this.abort.signal.reason);
    if (this.abort.signal.aborted) onClose();
    else this.abort.signal.addEventListener('abort', onClose, { once: true });
    return {
      signal: controller.signal,
      done: () => {
        clearTimeout(timer);
        this.abort.signal.removeEventListener('abort', onClose);
      },
    };
  }
}
