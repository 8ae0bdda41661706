import type { Logger } from '../logger.js';

/** How long `start` may take from SIGINT/SIGTERM to its exit: flushing, closing connections and the store. */
export const STOP_DEADLINE_MS = 10_000;

/** The exit code when cleanup outlasts the deadline: an error (main.ts), though nothing is lost. */
export const STOP_DEADLINE_EXIT_CODE = 2;

export interface StopDeadlineOptions {
  ms?: number;
  exit?: (code: number) => void;
}

/**
 * Ends the process `ms` after a stop signal if it is still running. A cleanup that hangs (a
 * connection that never closes, a connect that never settles) would otherwise keep the process,
 * and the embedded store's lock, until someone kills it; the slot replays whatever was not
 * confirmed, so exiting loses nothing. The timer itself does not keep the process alive.
 */
export function armStopDeadline(signal: NodeJS.Signals, log: Pick<Logger, 'error'>, options: StopDeadlineOptions = {}): NodeJS.Timeout {
  const ms = options.ms ?? STOP_DEADLINE_MS;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const timer = setTimeout(() => {
    log.error(
      `still running ${ms / 1000} s after ${signal}: exiting now without finishing cleanup (something did not close); ` +
        'the slot replays anything not yet confirmed, and the store is released with the process',
    );
    exit(STOP_DEADLINE_EXIT_CODE);
  }, ms);
  timer.unref();
  return timer;
}
