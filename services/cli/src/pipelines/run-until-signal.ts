import { describeError } from '@walaudit/core';
import type { Logger } from '../logger.js';
import { armStopDeadline } from './stop-deadline.js';

/** Where signals come from and how the process exits: `process`, or a stand-in in tests. */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  exit(code: number): void;
}

export interface UntilSignal {
  log: Logger;
  /** The process's work: resolves once it stopped cleanly, rejects when it failed for good. */
  run(): Promise<void>;
  /** Called at the first SIGINT or SIGTERM; run() settles once everything is flushed. */
  stop(): unknown;
  /** What the first signal starts, for the log: `flushing and stopping`. */
  stopping: string;
  /** Why a second signal may exit at once, for the log: what replays or retries what is cut short. */
  exitNow: string;
  /** Called in this order once run() settled; each step runs even when one before it failed. */
  cleanup: readonly (() => unknown)[];
  /** Default: this process. */
  signals?: SignalSource;
}

/**
 * Runs a start path in the foreground. The first SIGINT/SIGTERM asks it to stop cleanly; a second
 * one exits at once with 130, for an operator who will not wait for a flush, which is safe because
 * nothing is confirmed before it is durable. The handlers stay until the cleanup is done: closing
 * (a restore job finishing, a store flush) can take as long as stopping.
 */
export async function runUntilSignal(options: UntilSignal): Promise<void> {
  const { log, signals: source = process } = options;
  let signals = 0;
  let deadline: NodeJS.Timeout | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      log.warn(`${signal} again: exiting now; ${options.exitNow}`);
      source.exit(130);
      return;
    }
    log.info(`${signal}: ${options.stopping}`);
    // Bounded: a cleanup that hangs must not keep the process (and the embedded store's lock).
    deadline = armStopDeadline(signal, log, { exit: (code) => source.exit(code) });
    void (async () => options.stop())().catch((error: unknown) => log.error(`stopping failed: ${describeError(error)}`));
  };
  source.on('SIGINT', onSignal);
  source.on('SIGTERM', onSignal);
  const failures: unknown[] = [];
  try {
    try {
      await options.run();
    } catch (error) {
      log.error(`stopped: ${describeError(error)}`);
      failures.push(error);
    }
    for (const step of options.cleanup) {
      try {
        await step();
      } catch (error) {
        // The first failure is what the command reports; later ones would be lost without this.
        if (failures.length > 0) log.warn(`closing after the failure above also failed: ${describeError(error)}`);
        failures.push(error);
      }
    }
  } finally {
    clearTimeout(deadline);
    source.off('SIGINT', onSignal);
    source.off('SIGTERM', onSignal);
  }
  if (failures.length > 0) throw failures[0];
  log.info('stopped cleanly');
}
