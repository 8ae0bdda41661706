import type { WindowOutcome } from './window-step.js';
import type { WindowDeletion, WindowRule } from './window-state.js';

/**
 * Where the sliding windows live: in the process (BulkDeleteWindow) or in Redis, shared by several
 * alerters and updated atomically. Both run the same step (addDeletion), so they behave the same.
 */
export interface WindowStore {
  readonly kind: 'memory' | 'redis';
  /** Counts one deletion for `key` (actor and table group) and says whether an alert opened or grew. */
  add(key: string, deletion: WindowDeletion, rule: WindowRule, nowMs?: number): Promise<WindowOutcome>;
  /** The alert was acknowledged: it stops absorbing deletions, and counting starts afresh. */
  release(key: string, alertId: string): Promise<void>;
  close(): Promise<void>;
}
