// Process-wide cleanup: every child process the bench spawns is killed, and every registered async
// cleanup (Postgres stop) runs, on every exit path: normal end, error, SIGINT/SIGTERM/SIGHUP,
// uncaught exception. Children are tracked by pid and killed by pid only.

const children = new Set();
const cleanups = [];
let installed = false;
let cleaningUp = false;
let interrupted = null;

/** The signal that interrupted the bench, if one did. */
export function interruptedBy() {
  return interrupted;
}

/** Tracks a spawned ChildProcess until it exits. Returns it. */
export function trackChild(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Registers an async cleanup; returns a function that unregisters it. */
export function onCleanup(fn) {
  cleanups.push(fn);
  return () => {
    const index = cleanups.indexOf(fn);
    if (index >= 0) cleanups.splice(index, 1);
  };
}

/** SIGKILL every tracked child still running (synchronous, safe in an 'exit' handler). */
export function killChildren() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  children.clear();
}

/** Kills the children, then runs the registered cleanups, newest first. */
export async function runCleanups() {
  if (cleaningUp) return;
  cleaningUp = true;
  killChildren();
  while (cleanups.length > 0) {
    const fn = cleanups.pop();
    try {
      await fn();
    } catch (error) {
      process.stderr.write(`bench: cleanup failed: ${error?.message ?? error}\n`);
    }
  }
}

export function installExitHandlers() {
  if (installed) return;
  installed = true;
  process.on('exit', killChildren);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      interrupted = signal;
      process.stderr.write(`bench: ${signal}, cleaning up\n`);
      void runCleanups().finally(() => process.exit(130));
    });
  }
  const fatal = (error) => {
    process.stderr.write(`bench: fatal: ${error?.stack ?? error}\n`);
    void runCleanups().finally(() => process.exit(1));
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
}
