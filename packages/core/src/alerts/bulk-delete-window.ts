import { addDeletion, releaseAlert, windowStateExpired, type WindowOutcome } from './window-step.js';
import type { ActorWindowState, WindowDeletion, WindowRule } from './window-state.js';
import type { WindowStore } from './window-store.types.js';

const SWEEP_EVERY = 1_000;

/**
 * The windows of one process (standalone mode). Actors that stopped deleting longer than a window
 * ago are forgotten, so memory follows the number of actors deleting right now.
 */
export class BulkDeleteWindow implements WindowStore {
  readonly kind = 'memory' as const;
  private readonly states = new Map<string, { state: ActorWindowState; windowMs: number }>();
  private adds = 0;
  private newestMs = 0;

  async add(key: string, deletion: WindowDeletion, rule: WindowRule, nowMs = Date.now()): Promise<WindowOutcome> {
    return this.addNow(key, deletion, rule, nowMs);
  }

  /** The synchronous step, for callers that keep a local window beside a shared one. */
  addNow(key: string, deletion: WindowDeletion, rule: WindowRule, nowMs = Date.now()): WindowOutcome {
    const step = addDeletion(this.states.get(key)?.state ?? null, key, deletion, rule, nowMs);
    this.states.set(key, { state: step.state, windowMs: rule.windowMs });
    this.newestMs = Math.max(this.newestMs, deletion.atMs);
    if (++this.adds % SWEEP_EVERY === 0) this.sweep();
    return step.outcome;
  }

  async release(key: string, alertId: string): Promise<void> {
    const entry = this.states.get(key);
    if (!entry) return;
    const released = releaseAlert(entry.state, alertId);
    if (released) this.states.set(key, { ...entry, state: released });
  }

  /** The state of one key (tests, reconciliation with a shared store). */
  stateOf(key: string): ActorWindowState | null {
    return this.states.get(key)?.state ?? null;
  }

  /** Every key with its state; reconciliation pushes these into the shared store. */
  entries(): Array<[string, ActorWindowState]> {
    return [...this.states].map(([key, entry]) => [key, entry.state]);
  }

  get size(): number {
    return this.states.size;
  }

  /** Puts a state back (an alert stored before a restart that is still absorbing deletions). */
  seed(key: string, state: ActorWindowState, windowMs: number): void {
    this.states.set(key, { state, windowMs });
  }

  forget(key: string): void {
    this.states.delete(key);
  }

  sweep(): void {
    for (const [key, entry] of this.states) {
      if (windowStateExpired(entry.state, this.newestMs, entry.windowMs)) this.states.delete(key);
    }
  }

  async close(): Promise<void> {
    this.states.clear();
  }
}
