import { isWalauditError } from './errors.js';

export interface RetryPolicy {
  initialMs: number;
  maxMs: number;
  /** Called before each wait, e.g. to log and count. */
  onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
  /** Returns true when the caller is shutting down and retrying should end. */
  cancelled?: () => boolean;
  /** Settles when the caller starts shutting down: a wait in progress ends then, not at its term. */
  interrupted?: Promise<unknown>;
}

/** Wait before retry `attempt` (from 1): doubling from initialMs up to maxMs, with jitter so many processes do not retry in step. */
export function backoffDelayMs(attempt: number, policy: Pick<RetryPolicy, 'initialMs' | 'maxMs'>): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt - 1, 20));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/**
 * Retries an operation as long as its error is retriable, with exponential backoff and jitter,
 * for as long as it takes: a store outage holds the pipeline (and so the slot) instead of
 * dropping entries. Non-retriable errors are thrown at once.
 */
export async function retryWhileRetriable<T>(operation: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isWalauditError(error) || !error.retriable || policy.cancelled?.()) throw error;
      const delayMs = backoffDelayMs(attempt, policy);
      policy.onRetry?.(attempt, delayMs, error);
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), delayMs)));
      // Not race([waited, undefined]): undefined counts as settled, and the retries would spin.
      const interrupted = await (policy.interrupted ? Promise.race([waited, policy.interrupted.then(() => true)]) : waited);
      clearTimeout(timer);
      // A wait that ran its term is followed by one more attempt, as before `interrupted` existed.
      if (interrupted && policy.cancelled?.()) throw error;
    }
  }
}

export interface ReconnectPolicy extends RetryPolicy {
  /** True once the caller is stopping: no new session starts and a pending wait ends. */
  cancelled: () => boolean;
  /** Sees every failure of a session, retriable or not, before the loop decides. */
  onError?: (error: unknown) => void;
}

export interface ReconnectLoop {
  /** Resolves once cancelled; rejects with the first failure that is not retriable. */
  run(): Promise<void>;
  /** Ends a wait between sessions at once (after `cancelled` turned true). */
  wake(): void;
}

/**
 * Runs `session` (one connection's life: a replication stream) again and again until cancelled.
 * A retriable failure waits with backoff and starts a new session; a session that ran and then
 * failed starts the backoff over, so a flapping server is retried quickly after each good spell.
 */
export function createReconnectLoop(session: () => Promise<void>, policy: ReconnectPolicy): ReconnectLoop {
  let wake: (() => void) | null = null;
  return {
    async run() {
      let attempt = 0;
      while (!policy.cancelled()) {
        try {
          await session();
          attempt = 0;
        } catch (error) {
          policy.onError?.(error);
          if (policy.cancelled()) break;
          if (!isWalauditError(error) || !error.retriable) throw error;
          const delayMs = backoffDelayMs(++attempt, policy);
          policy.onRetry?.(attempt, delayMs, error);
          let timer: NodeJS.Timeout | undefined;
          await new Promise<void>((resolve) => {
            wake = resolve;
            timer = setTimeout(resolve, delayMs);
          });
          // Woken early, the timer would still hold the event loop (up to maxMs) after a stop.
          clearTimeout(timer);
          wake = null;
        }
      }
    },
    wake() {
      wake?.();
    },
  };
}
