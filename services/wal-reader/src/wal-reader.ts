import {
  ChangeDecoder,
  type ChangeEvent,
  type ChangeSink,
  type ChangeSource,
  type ColumnDef,
  type ActorTagOptions,
  type DecoderNotice,
  type Lsn,
  type TransactionEnd,
} from '@walaudit/core';

export interface WalReaderOptions {
  /** Most events handed to the sink at once. */
  batchSize: number;
  /** Longest wait before committed events are flushed, in ms. */
  flushIntervalMs: number;
}

export interface WalReaderDeps {
  source: ChangeSource;
  sink: ChangeSink;
  options: WalReaderOptions;
  knownShapes?: ReadonlyMap<string, ColumnDef[]>;
  /** How statement tags are read into the actor (config section `actor`); defaults when absent. */
  tagOptions?: ActorTagOptions;
  onNotice?: (notice: DecoderNotice) => void;
  /** Called after each durable flush with the position confirmed to the slot. */
  onConfirmed?: (lsn: Lsn, events: number) => void;
  onTransaction?: (events: number) => void;
  /** Called after each durable write with its number of events (also mid-transaction). */
  onWritten?: (events: number) => void;
}

export interface WalReader {
  /** Resolves when stopped; rejects with the error that stopped the stream. */
  run(): Promise<void>;
  stop(): Promise<void>;
  readonly stats: { events: number; transactions: number; flushes: number; confirmedLsn: Lsn };
}

/**
 * Decodes the source into ChangeEvents, hands them to the sink in bounded batches, and confirms a
 * commit to the slot only after every event up to it is durable. A batch may hold the start of a
 * transaction that is still streaming (that is what bounds memory); a replay after a crash
 * re-sends that transaction and the sink drops what it already has.
 */
export function createWalReader(deps: WalReaderDeps): WalReader {
  const { source, sink, options } = deps;
  const stats = { events: 0, transactions: 0, flushes: 0, confirmedLsn: 0n };
  let pending: ChangeEvent[] = [];
  /** Commits (with events) since the last flush, for a sink that wants transaction ends. */
  let pendingEnds: TransactionEnd[] = [];
  const wantsEnds = sink.wantsTransactionEnds === true;
  const queuesWrites = sink.queuesWrites === true;
  /** The newest position all of whose events are in `pending` or already written. */
  let ackTarget: Lsn = 0n;
  let flushChain: Promise<void> = Promise.resolve();
  let flushTimer: NodeJS.Timeout | null = null;
  /** Batches handed to `flushChain` whose write has not finished. */
  let writesInFlight = 0;
  /** The flush interval passed while a write was in flight: flush once the writer is idle. */
  let flushWhenIdle = false;
  let failure: unknown = null;

  const decoder = new ChangeDecoder((event) => pending.push(event), deps.onNotice, deps.knownShapes, deps.tagOptions);

  const flush = (): Promise<void> => {
    if (flushTimer) {
      clearTimeout(flushTimer);
      flushTimer = null;
    }
    flushWhenIdle = false;
    const batch = pending;
    const ends = pendingEnds;
    const target = ackTarget;
    pending = [];
    if (ends.length > 0) pendingEnds = [];
    writesInFlight++;
    const hasWork = batch.length > 0 || ends.length > 0;
    const startWrite = () => (wantsEnds ? sink.write(batch, ends) : sink.write(batch));
    // A sink that queues writes gets the batch now (see ChangeSink.queuesWrites); its outcome is
    // awaited in order below, and after an earlier failure it is never looked at.
    const queued = hasWork && queuesWrites && !failure ? startWrite() : null;
    queued?.catch(() => undefined);
    flushChain = flushChain.then(async () => {
      if (failure) return;
      try {
        if (hasWork) {
          await (queued ?? startWrite());
          if (batch.length > 0) deps.onWritten?.(batch.length);
        }
        stats.flushes++;
        if (target > stats.confirmedLsn) {
          stats.confirmedLsn = target;
          source.confirm(target);
          deps.onConfirmed?.(target, batch.length);
        }
      } catch (error) {
        failure = error;
        // Nothing after this batch is confirmed; the slot replays it on the next start.
        void source.stop();
      }
    }).finally(() => {
      writesInFlight--;
      if (writesInFlight === 0 && flushWhenIdle && !failure) void flush();
    });
    return flushChain;
  };

  /**
   * Hands a full batch on and keeps decoding the next one while it is written, but never gets
   * more than one batch ahead: waiting for the previous write holds the stream, so memory stays
   * at two batches however large the transaction.
   */
  const flushFullBatch = async () => {
    const previous = flushChain;
    void flush();
    await previous;
  };

  const scheduleFlush = () => {
    if (flushTimer) return;
    flushTimer = setTimeout(() => {
      flushTimer = null;
      // Queueing a batch behind a write in flight would not hold the stream, so behind a slow
      // sink timer batches would pile up without bound: wait for the writer instead.
      if (writesInFlight > 0) flushWhenIdle = true;
      else void flush();
    }, options.flushIntervalMs);
  };

  const handle = async (message: Parameters<Parameters<ChangeSource['run']>[0]>[0]) => {
    if (failure) throw failure;
    const before = pending.length;
    const outcome = decoder.decode(message);
    stats.events += pending.length - before;
    if (outcome.kind === 'commit' || outcome.kind === 'heartbeat') {
      ackTarget = outcome.ackLsn;
      if (outcome.kind === 'commit') {
        stats.transactions++;
        if (wantsEnds && outcome.events > 0) pendingEnds.push({ events: outcome.events });
        deps.onTransaction?.(outcome.events);
      }
      if (pending.length >= options.batchSize) await flushFullBatch();
      else scheduleFlush();
    } else if (pending.length >= options.batchSize) {
      await flushFullBatch();
    }
    if (failure) throw failure;
  };

  return {
    stats,
    async run() {
      let sourceError: unknown = null;
      try {
        await source.run(handle);
      } catch (error) {
        sourceError = error;
      }
      if (flushTimer) clearTimeout(flushTimer);
      flushWhenIdle = false;
      // A clean stop still writes what was decoded, so a restart has less to replay.
      if (!failure && !sourceError) await flush();
      await flushChain;
      if (failure) throw failure;
      if (sourceError) throw sourceError;
    },
    async stop() {
      // Flush first, while the stream can still carry the confirmation to the server.
      await flush();
      await source.stop();
    },
  };
}
