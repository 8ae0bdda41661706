import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  formatLsn,
  MESSAGE_PREFIX,
  type ChangeEvent,
  type ChangeSink,
  type ChangeSource,
  type Lsn,
  type RelationShape,
  type WalMessage,
} from '@walaudit/core';
import { createWalReader, type WalReaderOptions } from './wal-reader.js';

// ---------------------------------------------------------------------------------------------
// Test doubles of our own ports. They pin the reader's logic deterministically; the real
// Postgres source and ClickHouse sink are covered by the integration tests.
// ---------------------------------------------------------------------------------------------

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets every promise chain and pending callback run to quiescence (no real I/O is involved). */
async function settle(turns = 10): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
}

/**
 * A scripted ChangeSource: hands queued messages to the handler one at a time and waits for the
 * handler's promise before the next one, like PgReplicationSource. When the queue is empty it
 * idles (a live stream) until more messages are pushed or `stop()` is called. `stop()` settles
 * `run()` at once, even while a handler is pending; a handler that throws makes `run()` reject.
 */
class ScriptedSource implements ChangeSource {
  readonly confirms: Lsn[] = [];
  /** Messages handed to the handler so far. */
  consumed = 0;
  /** True while the handler's promise for the last message has not settled: the stream is held. */
  handlerPending = false;
  stopCalls = 0;
  private readonly queue: WalMessage[] = [];
  private stopped = false;
  private wake: (() => void) | null = null;
  private end: { resolve: () => void; reject: (error: unknown) => void } | null = null;

  constructor(private readonly log: string[]) {}

  push(...messages: WalMessage[]): void {
    this.queue.push(...messages);
    this.wake?.();
  }

  get queued(): number {
    return this.queue.length;
  }

  run(handler: (message: WalMessage) => void | Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.end = { resolve, reject };
      void this.pump(handler);
    });
  }

  private async pump(handler: (message: WalMessage) => void | Promise<void>): Promise<void> {
    while (!this.stopped) {
      const message = this.queue.shift();
      if (!message) {
        await new Promise<void>((r) => (this.wake = r));
        this.wake = null;
        continue;
      }
      this.consumed++;
      this.handlerPending = true;
      try {
        await handler(message);
      } catch (error) {
        this.handlerPending = false;
        this.stopped = true;
        this.log.push('source:handler-threw');
        this.end?.reject(error);
        return;
      }
      this.handlerPending = false;
    }
  }

  confirm(lsn: Lsn): void {
    this.confirms.push(lsn);
    this.log.push(`confirm ${formatLsn(lsn)}`);
  }

  async stop(): Promise<void> {
    this.stopCalls++;
    this.log.push('source:stop');
    this.stopped = true;
    this.wake?.();
    this.end?.resolve();
  }
}

/**
 * An in-memory ChangeSink. Records every write call and which events became durable; can be
 * made to hang (each write waits until released) or to fail its next write.
 */
class MemorySink implements ChangeSink {
  /** Every batch handed to `write`, in call order (copies, as handed over). */
  readonly writes: ChangeEvent[][] = [];
  /** Events whose write resolved, in order. */
  readonly durable: ChangeEvent[] = [];
  private hanging = false;
  private readonly held: Deferred[] = [];
  private nextFailure: unknown = null;

  constructor(private readonly log: string[]) {}

  hang(): void {
    this.hanging = true;
  }

  /** Lets the oldest hanging write go on (to resolve, or to fail if `failNext` was set). */
  releaseOne(): void {
    const gate = this.held.shift();
    if (!gate) throw new Error('no write is hanging');
    gate.resolve();
  }

  /** Stops hanging: the writes held now and every later one go through. */
  resume(): void {
    this.hanging = false;
    while (this.held.length > 0) this.releaseOne();
  }

  failNext(error: unknown): void {
    this.nextFailure = error;
  }

  get hangingWrites(): number {
    return this.held.length;
  }

  async write(events: ChangeEvent[]): Promise<void> {
    this.writes.push([...events]);
    this.log.push(`write ${events.length}`);
    if (this.hanging) {
      const gate = deferred();
      this.held.push(gate);
      await gate.promise;
    }
    if (this.nextFailure) {
      const error = this.nextFailure;
      this.nextFailure = null;
      this.log.push(`write ${events.length} failed`);
      throw error;
    }
    this.durable.push(...events);
    this.log.push(`write ${events.length} durable`);
  }
}

/**
 * A sink that queues writes (ChangeSink.queuesWrites): takes each batch at the call (`taken`), as
 * the audit writer encodes it, then stores batches one at a time in call order; the writes queued
 * behind a failed one fail with it.
 */
class QueuingMemorySink extends MemorySink {
  readonly queuesWrites = true;
  /** Every batch handed over, at the call. */
  readonly taken: string[][] = [];
  private tail: Promise<void> = Promise.resolve();
  private failed: unknown = null;

  override write(events: ChangeEvent[]): Promise<void> {
    this.taken.push(ids(events));
    const previous = this.tail;
    const done = (async () => {
      await previous;
      if (this.failed) throw this.failed;
      try {
        await super.write(events);
      } catch (error) {
        this.failed = error;
        throw error;
      }
    })();
    this.tail = done.catch(() => undefined);
    return done;
  }
}

// ---------------------------------------------------------------------------------------------
// WAL fixtures
// ---------------------------------------------------------------------------------------------

const ITEMS: RelationShape = {
  oid: 16384,
  schema: 'public',
  table: 'items',
  columns: [{ name: 'id', type: 'int8', typeOid: 20 }],
  primaryKey: ['id'],
  replicaIdentity: 'full',
};

const COMMIT_TIME_MICROS = 1_700_000_000_123_456n;

/** Transaction n commits at 0/n0000 and ends 0x28 bytes later. */
const commitLsn = (n: number): Lsn => BigInt(n) * 0x10000n;
const endLsn = (n: number): Lsn => commitLsn(n) + 0x28n;
const heartbeatLsn = (n: number): Lsn => commitLsn(n) + 0x100n;

/** begin, relation, `rows` inserts, commit: `rows + 3` messages. */
function tx(n: number, rows: number): WalMessage[] {
  const messages: WalMessage[] = [
    { tag: 'begin', xid: 700 + n, commitLsn: commitLsn(n), commitTimeMicros: COMMIT_TIME_MICROS },
    { tag: 'relation', relation: ITEMS },
  ];
  for (let i = 0; i < rows; i++) messages.push({ tag: 'insert', relationOid: ITEMS.oid, after: { id: `${n}.${i}` } });
  messages.push({ tag: 'commit', commitLsn: commitLsn(n), commitEndLsn: endLsn(n) });
  return messages;
}

/** The parts of tx(n, rows) without the commit, and the commit alone. */
function openTx(n: number, rows: number): WalMessage[] {
  return tx(n, rows).slice(0, -1);
}
function commitOf(n: number): WalMessage {
  return { tag: 'commit', commitLsn: commitLsn(n), commitEndLsn: endLsn(n) };
}

function heartbeat(lsn: Lsn): WalMessage {
  return { tag: 'message', transactional: false, lsn, prefix: MESSAGE_PREFIX.heartbeat, content: '' };
}

/** The ids the decoder gives tx(n, rows)'s events: `<16 hex commit LSN>-<seq>`. */
function idsOf(n: number, rows: number): string[] {
  const lsn = commitLsn(n).toString(16).toUpperCase().padStart(16, '0');
  return Array.from({ length: rows }, (_, seq) => `${lsn}-${seq}`);
}

const ids = (events: readonly ChangeEvent[]) => events.map((event) => event.id);

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

function start(options: Partial<WalReaderOptions> = {}, makeSink: (log: string[]) => MemorySink = (log) => new MemorySink(log)) {
  const log: string[] = [];
  const source = new ScriptedSource(log);
  const sink = makeSink(log);
  const onConfirmed: Array<{ lsn: Lsn; events: number; durable: string[] }> = [];
  const reader = createWalReader({
    source,
    sink,
    options: { batchSize: 100, flushIntervalMs: 1_000, ...options },
    // Snapshot of what was durable when each confirmation went out.
    onConfirmed: (lsn, events) => onConfirmed.push({ lsn, events, durable: ids(sink.durable) }),
  });
  const running = reader.run();
  // Observe the outcome without leaving an unhandled rejection; tests assert on `running`.
  const outcome = running.then(
    () => ({ ok: true as const }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  return { log, source, sink, reader, running, outcome, onConfirmed };
}

/** Events the reader has decoded that are not durable yet: what it holds in memory. */
const held = (h: ReturnType<typeof start>) => h.reader.stats.events - h.sink.durable.length;

beforeEach(() => {
  // Only the flush timer is faked; setImmediate (used by settle) and microtasks stay real.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});

afterEach(() => {
  vi.useRealTimers();
});

// ---------------------------------------------------------------------------------------------

describe('createWalReader: confirmation follows durability', () => {
  it('confirms a commit with its commitEndLsn only after the write holding its events resolved', async () => {
    const h = start({ batchSize: 100, flushIntervalMs: 50 });
    h.sink.hang();
    h.source.push(...tx(1, 3));
    await settle();
    expect(h.sink.writes).toHaveLength(0); // waiting for the flush interval

    await vi.advanceTimersByTimeAsync(50);
    await settle();
    expect(h.sink.writes.map(ids)).toEqual([idsOf(1, 3)]);
    expect(h.sink.hangingWrites).toBe(1);
    expect(h.source.confirms).toEqual([]);

    // However long the write hangs, nothing is confirmed.
    await vi.advanceTimersByTimeAsync(10_000);
    await settle();
    expect(h.source.confirms).toEqual([]);
    expect(h.reader.stats.confirmedLsn).toBe(0n);

    h.sink.releaseOne();
    await settle();
    expect(h.source.confirms).toEqual([endLsn(1)]);
    expect(h.reader.stats.confirmedLsn).toBe(endLsn(1));
    expect(h.log).toEqual(['write 3', 'write 3 durable', `confirm ${formatLsn(endLsn(1))}`]);
    expect(h.onConfirmed).toEqual([{ lsn: endLsn(1), events: 3, durable: idsOf(1, 3) }]);

    await h.reader.stop();
    await expect(h.running).resolves.toBeUndefined();
    expect(h.source.confirms).toEqual([endLsn(1)]); // nothing new to confirm on stop
  });

  it('groups many small transactions into one write and confirms the last commit of the batch', async () => {
    const h = start({ batchSize: 100, flushIntervalMs: 60_000 });
    for (let n = 1; n <= 10; n++) h.source.push(...tx(n, 2));
    await settle();
    expect(h.source.consumed).toBe(10 * 5);
    expect(h.reader.stats.transactions).toBe(10);
    expect(h.sink.writes).toHaveLength(0);
    expect(h.source.confirms).toEqual([]);

    await vi.advanceTimersByTimeAsync(59_999);
    await settle();
    expect(h.sink.writes).toHaveLength(0);

    await vi.advanceTimersByTimeAsync(1);
    await settle();
    expect(h.sink.writes).toHaveLength(1);
    expect(h.sink.writes.map(ids)).toEqual([Array.from({ length: 10 }, (_, i) => idsOf(i + 1, 2)).flat()]);
    expect(h.source.confirms).toEqual([endLsn(10)]);
    expect(h.reader.stats).toEqual({ events: 20, transactions: 10, flushes: 1, confirmedLsn: endLsn(10) });

    await h.reader.stop();
    await expect(h.running).resolves.toBeUndefined();
  });

  it('writes a full batch at once, confirming only the commits already seen', async () => {
    const h = start({ batchSize: 4, flushIntervalMs: 60_000 });
    h.source.push(...tx(1, 2), ...tx(2, 2), ...tx(3, 1));
    await settle();
    // tx 2's last insert fills the batch: written at once. Its commit had not been read when the
    // batch was cut, so only tx 1 is confirmed; tx 2 and tx 3 wait for the interval.
    expect(h.sink.writes.map(ids)).toEqual([[...idsOf(1, 2), ...idsOf(2, 2)]]);
    expect(h.source.confirms).toEqual([endLsn(1)]);

    await vi.advanceTimersByTimeAsync(60_000);
    await settle();
    expect(h.sink.writes.map(ids)).toEqual([[...idsOf(1, 2), ...idsOf(2, 2)], idsOf(3, 1)]);
    expect(h.source.confirms).toEqual([endLsn(1), endLsn(3)]);

    await h.reader.stop();
  });
});

describe('createWalReader: bounded batches', () => {
  it('splits a transaction larger than batchSize into batches of at most batchSize and holds the stream two batches ahead', async () => {
    const batchSize = 4;
    const rows = 30;
    const h = start({ batchSize, flushIntervalMs: 50 });
    h.sink.hang();
    h.source.push(...tx(1, rows)); // 33 messages

    await settle();
    // Batch 1 (inserts 1-4) is being written, batch 2 (inserts 5-8) is full: the handler for the
    // 8th insert waits, so the stream is held after begin + relation + 8 inserts.
    expect(h.source.consumed).toBe(2 + 2 * batchSize);
    expect(h.source.handlerPending).toBe(true);
    expect(h.sink.writes.map((w) => w.length)).toEqual([4]);
    expect(h.reader.stats.events).toBe(2 * batchSize);

    // Time passing does not change that (no commit yet: no timer flush either).
    await vi.advanceTimersByTimeAsync(10_000);
    await settle();
    expect(h.source.consumed).toBe(2 + 2 * batchSize);
    expect(h.source.handlerPending).toBe(true);

    // Each released write lets exactly one more batch in.
    for (let released = 1; released <= 3; released++) {
      h.sink.releaseOne();
      await settle();
      expect(h.source.consumed).toBe(2 + (released + 2) * batchSize);
      expect(h.source.handlerPending).toBe(true);
      expect(h.sink.writes).toHaveLength(released + 1);
      expect(held(h)).toBe(2 * batchSize);
      expect(h.source.confirms).toEqual([]);
    }

    h.sink.resume();
    await settle();
    expect(h.source.consumed).toBe(rows + 3);
    expect(h.source.handlerPending).toBe(false);
    expect(h.source.confirms).toEqual([]); // the commit's last 2 events wait for the interval

    await vi.advanceTimersByTimeAsync(50);
    await settle();
    expect(h.sink.writes.map((w) => w.length)).toEqual([4, 4, 4, 4, 4, 4, 4, 2]);
    expect(h.sink.writes.every((w) => w.length <= batchSize)).toBe(true);
    expect(ids(h.sink.durable)).toEqual(idsOf(1, rows));
    expect(h.source.confirms).toEqual([endLsn(1)]);
    expect(h.onConfirmed).toEqual([{ lsn: endLsn(1), events: 2, durable: idsOf(1, rows) }]);

    await h.reader.stop();
    await expect(h.running).resolves.toBeUndefined();
  });

  it('holds the stream when timer flushes pile up behind a hanging write (small transactions)', async () => {
    const batchSize = 4;
    const h = start({ batchSize, flushIntervalMs: 10 });
    h.sink.hang();
    for (let n = 1; n <= 30; n++) {
      h.source.push(...tx(n, 1));
      await settle();
      await vi.advanceTimersByTimeAsync(10);
      await settle();
    }
    // tx 1 is being written (the write hangs); the timer flushes after it wait for the writer, so
    // txs 2-5 fill the next batch, and the 4th event in it holds the stream: one batch being
    // written, one full. Everything after tx 5's insert stays unread.
    expect(h.sink.writes.map(ids)).toEqual([idsOf(1, 1)]);
    expect(h.source.consumed).toBe(4 * 4 + 3);
    expect(h.source.handlerPending).toBe(true);
    expect(h.reader.stats.events).toBe(5);
    expect(held(h)).toBeLessThanOrEqual(2 * batchSize);
    expect(h.source.confirms).toEqual([]);

    h.sink.resume();
    for (let i = 0; i < 30; i++) {
      await settle();
      await vi.advanceTimersByTimeAsync(10);
    }
    await settle();
    expect(h.source.queued).toBe(0);
    expect(ids(h.sink.durable)).toEqual(Array.from({ length: 30 }, (_, i) => idsOf(i + 1, 1)).flat());
    expect(h.sink.writes.every((w) => w.length <= batchSize)).toBe(true);
    expect(h.source.confirms.at(-1)).toBe(endLsn(30));
    // Confirmations only ever move forward.
    expect([...h.source.confirms].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(h.source.confirms);

    await h.reader.stop();
    await expect(h.running).resolves.toBeUndefined();
  });

  it('does not confirm a transaction whose events are only partly written', async () => {
    const h = start({ batchSize: 4, flushIntervalMs: 60_000 });
    // tx 1 (1 row) committed, tx 2 (6 rows) streams: batch 1 = tx1 + 3 rows of tx 2.
    h.source.push(...tx(1, 1), ...openTx(2, 6));
    await settle();
    expect(h.sink.writes.map(ids)).toEqual([[...idsOf(1, 1), ...idsOf(2, 3)]]);
    // Only tx 1 is complete in the written batch.
    expect(h.source.confirms).toEqual([endLsn(1)]);
    expect(h.onConfirmed).toEqual([{ lsn: endLsn(1), events: 4, durable: [...idsOf(1, 1), ...idsOf(2, 3)] }]);

    // The interval passing mid-transaction confirms nothing more.
    await vi.advanceTimersByTimeAsync(60_000);
    await settle();
    expect(h.source.confirms).toEqual([endLsn(1)]);

    // Commit arrives with 3 of tx 2's events still unwritten: still no confirm for tx 2...
    h.source.push(commitOf(2));
    await settle();
    expect(h.source.confirms).toEqual([endLsn(1)]);
    // ...until the remaining events are durable.
    h.sink.hang();
    await vi.advanceTimersByTimeAsync(60_000);
    await settle();
    expect(h.sink.hangingWrites).toBe(1);
    expect(h.source.confirms).toEqual([endLsn(1)]);
    h.sink.releaseOne();
    await settle();
    expect(ids(h.sink.durable)).toEqual([...idsOf(1, 1), ...idsOf(2, 6)]);
    expect(h.source.confirms).toEqual([endLsn(1), endLsn(2)]);
    expect(h.onConfirmed.at(-1)?.durable).toEqual([...idsOf(1, 1), ...idsOf(2, 6)]);

    await h.reader.stop();
  });
});

describe('createWalReader: failures', () => {
  it('rejects run() with the sink error, confirms nothing after it, and stops the source', async () => {
    const boom = new Error('store unavailable');
    const h = start({ batchSize: 2, flushIntervalMs: 60_000 });
    h.source.push(...tx(1, 2));
    await settle();
    await vi.advanceTimersByTimeAsync(60_000);
    await settle();
    expect(h.source.confirms).toEqual([endLsn(1)]);

    h.sink.hang();
    // tx 2 fills batch A (hangs), tx 3 fills batch B (queued behind A, stream held).
    h.source.push(...tx(2, 2), ...tx(3, 2), ...tx(4, 2));
    await settle();
    expect(h.sink.hangingWrites).toBe(1);
    expect(h.source.handlerPending).toBe(true);
    expect(h.source.consumed).toBe(5 + 5 + 4); // tx 1, tx 2, then tx 3 up to its 2nd insert

    h.sink.failNext(boom);
    h.sink.releaseOne();
    await settle();

    const outcome = await h.outcome;
    expect(outcome).toEqual({ ok: false, error: boom });
    await expect(h.running).rejects.toBe(boom);
    expect(h.source.stopCalls).toBeGreaterThanOrEqual(1);
    expect(h.log.indexOf('write 2 failed')).toBeLessThan(h.log.indexOf('source:stop'));
    // Nothing after the failure: batch B is never written, nothing more confirmed.
    expect(h.sink.writes.map(ids)).toEqual([idsOf(1, 2), idsOf(2, 2)]);
    expect(h.source.confirms).toEqual([endLsn(1)]);
    expect(h.reader.stats.confirmedLsn).toBe(endLsn(1));
    // Nothing more is read: the stream stopped.
    expect(h.source.consumed).toBe(14);

    // A later stop() neither writes nor confirms.
    await vi.advanceTimersByTimeAsync(60_000);
    await h.reader.stop();
    expect(h.sink.writes).toHaveLength(2);
    expect(h.source.confirms).toEqual([endLsn(1)]);
  });

  it('rejects run() when a timer flush fails while the stream is idle', async () => {
    const boom = new Error('disk full');
    const h = start({ batchSize: 100, flushIntervalMs: 50 });
    h.source.push(...tx(1, 1));
    await settle();
    h.sink.failNext(boom);
    await vi.advanceTimersByTimeAsync(50);
    await settle();
    await expect(h.running).rejects.toBe(boom);
    expect(h.source.confirms).toEqual([]);
    expect(h.source.stopCalls).toBe(1);
    expect(h.log).toEqual(['write 1', 'write 1 failed', 'source:stop']);
  });
});

describe('createWalReader: a sink that queues writes', () => {
  const startQueuing = (options: Partial<WalReaderOptions>) => {
    const h = start(options, (log) => new QueuingMemorySink(log));
    return { ...h, sink: h.sink as QueuingMemorySink };
  };

  it('hands the next full batch over while the previous one is written, still holding the stream two batches ahead', async () => {
    const batchSize = 4;
    const rows = 20;
    const h = startQueuing({ batchSize, flushIntervalMs: 50 });
    h.sink.hang();
    h.source.push(...tx(1, rows));
    await settle();
    // Batch 2 is with the sink (encoded there) while batch 1 is written; the stream waits.
    expect(h.sink.taken).toEqual([idsOf(1, rows).slice(0, 4), idsOf(1, rows).slice(4, 8)]);
    expect(h.sink.writes.map((w) => w.length)).toEqual([4]);
    expect(h.source.consumed).toBe(2 + 2 * batchSize);
    expect(h.source.handlerPending).toBe(true);

    h.sink.releaseOne();
    await settle();
    expect(h.sink.taken).toHaveLength(3);
    expect(h.sink.writes).toHaveLength(2);
    expect(held(h)).toBe(2 * batchSize);

    h.sink.resume();
    await settle();
    await vi.advanceTimersByTimeAsync(50);
    await settle();
    expect(ids(h.sink.durable)).toEqual(idsOf(1, rows));
    expect(h.source.confirms).toEqual([endLsn(1)]);
    await h.reader.stop();
    await expect(h.running).resolves.toBeUndefined();
  });

  it('confirms nothing after a failed write, though the next batch was already handed over', async () => {
    const batchSize = 2;
    const h = startQueuing({ batchSize, flushIntervalMs: 60_000 });
    h.sink.hang();
    h.source.push(...tx(1, 2), ...tx(2, 2), ...tx(3, 2));
    await settle();
    expect(h.sink.taken).toEqual([idsOf(1, 2), idsOf(2, 2)]);

    const boom = new Error('insert refused');
    h.sink.failNext(boom);
    h.sink.releaseOne();
    await settle();
    await expect(h.running).rejects.toBe(boom);
    // Batch 2 was taken but never stored: it failed behind batch 1.
    expect(h.sink.writes.map(ids)).toEqual([idsOf(1, 2)]);
    expect(h.sink.durable).toEqual([]);
    expect(h.source.confirms).toEqual([]);
    expect(h.source.stopCalls).toBeGreaterThanOrEqual(1);
  });
});

describe('createWalReader: heartbeats', () => {
  it('confirms a heartbeat outside a transaction after the pending events are written', async () => {
    const h = start({ batchSize: 100, flushIntervalMs: 50 });
    h.sink.hang();
    h.source.push(...tx(1, 2), heartbeat(heartbeatLsn(1)));
    await settle();
    await vi.advanceTimersByTimeAsync(50);
    await settle();
    expect(h.sink.writes.map(ids)).toEqual([idsOf(1, 2)]);
    expect(h.source.confirms).toEqual([]);

    h.sink.releaseOne();
    await settle();
    // One flush: tx 1's events are durable, then the heartbeat's position (past tx 1) is confirmed.
    expect(h.source.confirms).toEqual([heartbeatLsn(1)]);
    expect(h.log).toEqual(['write 2', 'write 2 durable', `confirm ${formatLsn(heartbeatLsn(1))}`]);

    await h.reader.stop();
  });

  it('confirms a heartbeat with nothing pending without writing', async () => {
    const h = start({ batchSize: 100, flushIntervalMs: 50 });
    h.source.push(heartbeat(heartbeatLsn(7)));
    await settle();
    await vi.advanceTimersByTimeAsync(50);
    await settle();
    expect(h.sink.writes).toEqual([]);
    expect(h.source.confirms).toEqual([heartbeatLsn(7)]);
    await h.reader.stop();
  });

  it('ignores a heartbeat inside a transaction', async () => {
    const h = start({ batchSize: 100, flushIntervalMs: 50 });
    h.source.push(...tx(1, 1), ...openTx(2, 1), heartbeat(heartbeatLsn(2)));
    await settle();
    await vi.advanceTimersByTimeAsync(50);
    await settle();
    // The flush armed by tx 1 writes tx 1 and the start of tx 2, and confirms tx 1 only.
    expect(h.sink.writes.map(ids)).toEqual([[...idsOf(1, 1), ...idsOf(2, 1)]]);
    expect(h.source.confirms).toEqual([endLsn(1)]);

    h.source.push(commitOf(2));
    await settle();
    await vi.advanceTimersByTimeAsync(50);
    await settle();
    expect(h.source.confirms).toEqual([endLsn(1), endLsn(2)]);
    expect(h.source.confirms).not.toContain(heartbeatLsn(2));
    await h.reader.stop();
  });
});

describe('createWalReader: stop', () => {
  it('flushes pending committed events and confirms them before stopping the source', async () => {
    const h = start({ batchSize: 100, flushIntervalMs: 60_000 });
    h.source.push(...tx(1, 2), ...tx(2, 1));
    await settle();
    expect(h.sink.writes).toEqual([]);

    h.sink.hang();
    const stopping = h.reader.stop();
    await settle();
    // The source is not stopped while the final write is in flight.
    expect(h.source.stopCalls).toBe(0);
    expect(h.source.confirms).toEqual([]);
    h.sink.releaseOne();
    await stopping;
    await expect(h.running).resolves.toBeUndefined();

    expect(h.log).toEqual(['write 3', 'write 3 durable', `confirm ${formatLsn(endLsn(2))}`, 'source:stop']);
    expect(ids(h.sink.durable)).toEqual([...idsOf(1, 2), ...idsOf(2, 1)]);
    expect(h.reader.stats.confirmedLsn).toBe(endLsn(2));
    expect(h.source.stopCalls).toBe(1);
  });

  it('on stop, writes the decoded start of an open transaction but confirms only the last commit', async () => {
    const h = start({ batchSize: 100, flushIntervalMs: 60_000 });
    h.source.push(...tx(1, 1), ...openTx(2, 2));
    await settle();
    await h.reader.stop();
    await expect(h.running).resolves.toBeUndefined();
    expect(ids(h.sink.durable)).toEqual([...idsOf(1, 1), ...idsOf(2, 2)]);
    expect(h.source.confirms).toEqual([endLsn(1)]);
    expect(h.log.at(-1)).toBe('source:stop');
  });
});

describe('createWalReader: event order and ids', () => {
  it('hands events over in order with ids <16 hex commit LSN>-<seq>', async () => {
    const h = start({ batchSize: 3, flushIntervalMs: 10 });
    const big = 0x16b374d848n; // 16/B374D848
    const LATER = 0x16b375; // tx(LATER) commits at 16/B3750000, after `big`
    h.source.push(
      { tag: 'begin', xid: 42, commitLsn: big, commitTimeMicros: COMMIT_TIME_MICROS },
      { tag: 'relation', relation: ITEMS },
      { tag: 'insert', relationOid: ITEMS.oid, after: { id: 'a' } },
      { tag: 'update', relationOid: ITEMS.oid, before: { id: 'a' }, after: { id: 'b' } },
      { tag: 'delete', relationOid: ITEMS.oid, before: { id: 'b' } },
      { tag: 'insert', relationOid: ITEMS.oid, after: { id: 'c' } },
      { tag: 'commit', commitLsn: big, commitEndLsn: big + 0x30n },
      ...tx(LATER, 2),
    );
    await settle();
    await vi.advanceTimersByTimeAsync(10);
    await settle();

    const all = h.sink.writes.flat();
    expect(ids(all)).toEqual([
      '00000016B374D848-0',
      '00000016B374D848-1',
      '00000016B374D848-2',
      '00000016B374D848-3',
      '00000016B3750000-0',
      '00000016B3750000-1',
    ]);
    for (const id of ids(all)) expect(id).toMatch(/^[0-9A-F]{16}-\d+$/);
    expect(all.map((e) => e.op)).toEqual(['insert', 'update', 'delete', 'insert', 'insert', 'insert']);
    expect(all.map((e) => e.tx.seq)).toEqual([0, 1, 2, 3, 0, 1]);
    expect(all[0]?.tx).toEqual({ xid: 42, lsn: '16/B374D848', commitTime: '2023-11-14T22:13:20.123456Z', seq: 0 });
    expect(h.sink.writes.map((w) => w.length)).toEqual([3, 3]);
    expect(ids(h.sink.durable)).toEqual(ids(all));
    // The second write completes the first transaction; the timer flush then confirms the second.
    expect(h.source.confirms).toEqual([big + 0x30n, endLsn(LATER)]);
    await h.reader.stop();
  });
});
