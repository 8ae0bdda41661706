import { createReconnectLoop, describeError, type WalauditConfig } from '@walaudit/core';
import type { SlotMonitor } from '@walaudit/pg';
import type { Logger } from '../logger.js';
import type { PipelineState } from './pipeline-state.js';

export interface SlotSessionsOptions {
  config: WalauditConfig;
  monitor: SlotMonitor;
  state: PipelineState;
  log: Logger;
  /** One replication session: connects, streams until the stream ends or fails. */
  session: () => Promise<void>;
  /** True once the pipeline is stopping: no new session starts and a pending wait ends. */
  cancelled: () => boolean;
}

export interface SlotSessions {
  /** Resolves once stopped; rejects with the first failure that retrying cannot help. */
  run(): Promise<void>;
  /** Ends a wait between sessions at once (after `cancelled` turned true). */
  wake(): void;
}

/**
 * What every path that reads the slot shares: sessions one after another (a lost connection or a
 * Postgres restart waits with backoff and reconnects, its error in the status), and a heartbeat
 * in the source's WAL meanwhile, so the slot follows the server while audited tables are idle.
 */
export function slotSessions(options: SlotSessionsOptions): SlotSessions {
  const { config, monitor, state, log } = options;
  const loop = createReconnectLoop(options.session, {
    initialMs: config.pipeline.retryInitialMs,
    maxMs: config.pipeline.retryMaxMs,
    cancelled: options.cancelled,
    onError: (error) => state.recordError(error),
    onRetry: (_attempt, delayMs, error) => {
      state.retrying();
      log.warn(`${describeError(error)}; reconnecting in ${delayMs} ms`);
    },
  });
  return {
    wake: () => loop.wake(),
    async run() {
      const heartbeat = setInterval(() => void monitor.heartbeat().catch((error: unknown) => state.recordError(error)), config.pipeline.heartbeatIntervalMs);
      try {
        await loop.run();
      } catch (error) {
        state.failed();
        throw error;
      } finally {
        clearInterval(heartbeat);
      }
    },
  };
}
