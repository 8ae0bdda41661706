import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { Logger } from '../logger.js';
import { runUntilSignal, type SignalSource } from './run-until-signal.js';

function recordingLog(lines: string[]): Logger {
  const log: Logger = {
    debug: (message) => lines.push(`debug ${message}`),
    info: (message) => lines.push(`info ${message}`),
    warn: (message) => lines.push(`warn ${message}`),
    error: (message) => lines.push(`error ${message}`),
    child: () => log,
  };
  return log;
}

class FakeProcess extends EventEmitter implements SignalSource {
  readonly exits: number[] = [];
  exit(code: number): void {
    this.exits.push(code);
  }
}

/** A run that ends when stop() is called, and a record of what happened in which order. */
function stoppableRun() {
  const steps: string[] = [];
  let end: () => void = () => {};
  const ended = new Promise<void>((resolve) => (end = resolve));
  return {
    steps,
    run: async () => {
      await ended;
      steps.push('run ended');
    },
    stop: () => {
      steps.push('stop');
      end();
    },
  };
}

describe('runUntilSignal', () => {
  it('stops at the first signal, then cleans up in order and says it stopped cleanly', async () => {
    const lines: string[] = [];
    const signals = new FakeProcess();
    const { steps, run, stop } = stoppableRun();
    const running = runUntilSignal({
      log: recordingLog(lines), signals, run, stop, stopping: 'flushing and stopping', exitNow: 'the slot replays',
      cleanup: [() => steps.push('api'), async () => steps.push('store')],
    });
    signals.emit('SIGTERM', 'SIGTERM');
    await running;
    expect(steps).toEqual(['stop', 'run ended', 'api', 'store']);
    expect(lines).toEqual(['info SIGTERM: flushing and stopping', 'info stopped cleanly']);
    expect(signals.listenerCount('SIGINT') + signals.listenerCount('SIGTERM')).toBe(0);
  });

  it('exits with 130 at a second signal, also while cleaning up', async () => {
    const lines: string[] = [];
    const signals = new FakeProcess();
    const { run, stop } = stoppableRun();
    let closeStore: () => void = () => {};
    const running = runUntilSignal({
      log: recordingLog(lines), signals, run, stop, stopping: 'finishing the current job and stopping', exitNow: 'the job is retried',
      cleanup: [() => new Promise<void>((resolve) => (closeStore = resolve))],
    });
    signals.emit('SIGINT', 'SIGINT');
    await new Promise((resolve) => setImmediate(resolve));
    signals.emit('SIGINT', 'SIGINT');
    expect(signals.exits).toEqual([130]);
    expect(lines).toContain('warn SIGINT again: exiting now; the job is retried');
    closeStore();
    await running;
  });

  it('runs every cleanup step after a failure and rethrows the run\'s error', async () => {
    const lines: string[] = [];
    const steps: string[] = [];
    const failure = new Error('slot dropped');
    await expect(runUntilSignal({
      log: recordingLog(lines), signals: new FakeProcess(), stop: () => {}, stopping: 'stopping', exitNow: 'replayed',
      run: () => Promise.reject(failure),
      cleanup: [() => { steps.push('api'); throw new Error('port busy'); }, () => steps.push('store')],
    })).rejects.toBe(failure);
    expect(steps).toEqual(['api', 'store']);
    expect(lines[0]).toBe('error stopped: slot dropped');
    expect(lines[1]).toBe('warn closing after the failure above also failed: port busy');
    expect(lines).not.toContain('info stopped cleanly');
  });
});
