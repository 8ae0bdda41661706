import { Redis } from 'ioredis';
import {
  addDeletion,
  BulkDeleteWindow,
  describeError,
  mergeWindowStates,
  releaseAlert,
  WalauditError,
  type ActorWindowState,
  type WindowDeletion,
  type WindowOutcome,
  type WindowRule,
  type WindowStore,
} from '@walaudit/core';
import type { AlertMetrics } from './alert-metrics.js';

/**
 * Compare-and-set of one window: the state is written only if its revision is still the one the
 * caller read. The step itself (addDeletion) runs in TypeScript, the same code as the in-memory
 * window; Redis only guarantees that two alerters never both apply a step to the same state.
 */
const CAS_SCRIPT = `
local current = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0')
if current ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'rev', ARGV[1] + 1, 'state', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

const MAX_CAS_ATTEMPTS = 100;

export interface RedisWindowOptions {
  url: string;
  metrics?: AlertMetrics;
  log: { info(line: string): void; warn(line: string): void };
  /** Prefix of the window keys; several walaudit deployments may share one Redis. */
  keyPrefix?: string;
}

export interface RedisWindowStore extends WindowStore {
  /** False while Redis does not answer: deletions are counted in a local window meanwhile. */
  readonly healthy: boolean;
  /** Resolves once the local window (if any) has been merged back into Redis. */
  reconciled(): Promise<void>;
}

type RedisWithCas = Redis & { casWindow(key: string, revision: number, state: string, ttlMs: number): Promise<number> };

/**
 * Windows shared by every alerter instance through Redis. When Redis is down, deletions are
 * counted in a local window (alerts are still raised, stored and sent: during an outage two
 * instances may each raise one for the same actor, never none), and when it answers again the
 * local windows are merged into the shared ones.
 */
export function createRedisWindowStore(options: RedisWindowOptions): RedisWindowStore {
  const prefix = options.keyPrefix ?? 'walaudit:window:';
  const redis = new Redis(options.url, {
    lazyConnect: false,
    // Fail fast while disconnected: the local window takes over instead of the pipeline waiting.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  }) as RedisWithCas;
  redis.defineCommand('casWindow', { numberOfKeys: 1, lua: CAS_SCRIPT });
  const local = new BulkDeleteWindow();
  let healthy = false;
  let reconciling: Promise<void> = Promise.resolve();
  let closed = false;
  let everHealthy = false;

  const setHealthy = (value: boolean, reason?: string) => {
    if (healthy === value) return;
    healthy = value;
    options.metrics?.windowStoreUp.set(value ? 1 : 0);
    if (!value) options.log.warn(`Redis at ${safeUrl(options.url)} does not answer (${reason ?? 'disconnected'}): counting alert windows locally until it is back`);
    else options.log.info(`Redis at ${safeUrl(options.url)} answers: alert windows are shared${everHealthy ? ' again, local counts merged' : ''}`);
    everHealthy ||= value;
  };
  options.metrics?.windowStoreUp.set(0);
  redis.on('error', () => undefined); // reported through 'close' and failed commands
  redis.on('close', () => !closed && setHealthy(false));
  redis.on('ready', () => {
    reconciling = reconcile().catch((error) => options.log.warn(`merging local alert windows into Redis failed: ${describeError(error)}`));
  });

  const read = async (key: string): Promise<{ revision: number; state: ActorWindowState | null }> => {
    const [revision, state] = await redis.hmget(prefix + key, 'rev', 'state');
    return { revision: Number(revision ?? 0), state: state ? (JSON.parse(state) as ActorWindowState) : null };
  };

  /** Reads, applies `step`, writes back if nobody wrote in between; else again. */
  const update = async <T>(key: string, ttlMs: number, step: (state: ActorWindowState | null) => { state: ActorWindowState | null; result: T }): Promise<T> => {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const current = await read(key);
      const next = step(current.state);
      if (!next.state) return next.result;
      if ((await redis.casWindow(prefix + key, current.revision, JSON.stringify(next.state), ttlMs)) === 1) return next.result;
    }
    throw new WalauditError('WINDOW_STORE_UNAVAILABLE', `alert window ${key} kept changing under ${MAX_CAS_ATTEMPTS} attempts`, { retriable: true });
  };

  const reconcile = async () => {
    while (local.size > 0) {
      for (const [key, state] of local.entries()) {
        const windowMs = 24 * 3_600_000;
        await update(key, windowMs, (shared) => ({ state: mergeWindowStates(shared, state), result: undefined }));
        local.forget(key);
      }
    }
    setHealthy(true);
  };

  return {
    kind: 'redis',
    get healthy() {
      return healthy;
    },
    reconciled: () => reconciling,
    async add(key: string, deletion: WindowDeletion, rule: WindowRule, nowMs = Date.now()): Promise<WindowOutcome> {
      if (healthy) {
        try {
          // The window outlives its last deletion by one window length: then nothing in it counts.
          return await update(key, rule.windowMs * 2, (state) => {
            const step = addDeletion(state, key, deletion, rule, nowMs);
            return { state: step.state, result: step.outcome };
          });
        } catch (error) {
          if (error instanceof WalauditError) throw error;
          setHealthy(false, describeError(error));
        }
      }
      return local.addNow(key, deletion, rule, nowMs);
    },
    async release(key: string, alertId: string): Promise<void> {
      await local.release(key, alertId);
      if (!healthy) return;
      try {
        await update(key, 24 * 3_600_000, (state) => ({ state: releaseAlert(state, alertId), result: undefined }));
      } catch (error) {
        options.log.warn(`releasing alert ${alertId} in Redis failed: ${describeError(error)}`);
      }
    },
    async close() {
      closed = true;
      redis.disconnect();
    },
  };
}

function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return 'the configured URL';
  }
}
