import {
  applyAuditRules,
  comparePositions,
  linkEachIntoChains,
  positionOf,
  type AuditedEvent,
  type AuditEntry,
  type AuditStore,
  type ChainedEntry,
  type ChainHead,
  type ChangeEvent,
  type ChangeSink,
  type ColumnDef,
  type LogPosition,
  type PartitionWriter,
  type PreparedEntries,
  type RuleContext,
  type SourceIdentity,
  sourceMismatch,
} from '@walaudit/core';
import { retryWhileRetriable, type RetryPolicy, type StoredBatchObserver, type StoredBatchStream } from '@walaudit/core';

export interface AuditWriterDeps {
  store: AuditStore;
  rules: RuleContext;
  retry: RetryPolicy;
  /** Names the store in messages (a URL without credentials, or the embedded data directory). */
  storeLabel?: string;
  /** Called after each durable insert. */
  onStored?: (stored: number, skipped: number) => void;
  /**
   * Services downstream of the store (alerts, cascade links) see each stored batch here, in log
   * order, after it is durable and before write() resolves, so the slot confirms a batch only once
   * every observer has taken it. An observer that throws fails the write like a store error.
   */
  observers?: readonly StoredBatchObserver[];
  /**
   * Told the chain hashes of each durable batch, in chain order, before the observers (the signed
   * checkpoints' trees advance with them). Must not block: it runs inside the write.
   */
  onChained?: (entries: readonly ChainedEntry[]) => void;
  /**
   * Distributed mode: the partition of the Kafka changes topic this writer stores. Each partition
   * has its own chains and its own replay position, because partitions are consumed independently
   * (by several writers). Default 0, the standalone mode's only stream.
   */
  partition?: number;
}

export interface AuditWriter extends ChangeSink, PartitionWriter {
  /**
   * Reads the chain heads and the stored table shapes; call once before the first write. With
   * `source`, first checks that the store belongs to that source (STORE_OTHER_SOURCE otherwise) and
   * records it in a store that has none yet.
   */
  init(source?: SourceIdentity): Promise<{ heads: ChainHead[]; knownShapes: Map<string, ColumnDef[]> }>;
  /** Position of the newest stored entry (of this writer's partition), or null for an empty log. */
  readonly position: LogPosition | null;
}

/**
 * Rules, then the hash chains, then the store. Events at or below the newest stored position are
 * replays (the slot re-sends what was not confirmed) and are dropped, so nothing is stored twice
 * and every chain stays linear.
 *
 * A write may be called before the previous one resolved (see ChangeSink.queuesWrites): its rules,
 * links and encoding (the CPU work) run at once, on the links of the batches before it, while the
 * previous insert runs on the store's threads; its insert waits for the previous one. Inserts run
 * one at a time, in call order: a batch stored before an earlier one failed would make that
 * earlier one look like a replay after a restart. Once an insert fails, the writes queued behind it
 * (linked after it) fail with it; the next write after them starts again from what is stored.
 */
export function createAuditWriter(deps: AuditWriterDeps): AuditWriter {
  /** The newest stored position (of this partition) and the chain heads stored. */
  let position: LogPosition | null = null;
  let heads = new Map<number, string>();
  /** The position and chain heads after the batches linked and handed to the store, stored or not yet. */
  let linkedPosition: LogPosition | null = null;
  let linkedHeads = new Map<number, string>();
  /** The last insert (and its observers) in flight; each insert waits for the one before it. */
  let inFlight: Promise<void> = Promise.resolve();
  /** Writes called and not settled. */
  let pending = 0;
  let failure: unknown = null;
  const partition = deps.partition ?? 0;
  const observers = deps.observers ?? [];

  // Where stored entries the observers may not have taken begin (StoredBatchStream.unobservedFrom);
  // 'next': from the first event the next write receives, as nothing is known of the last owner.
  let unobserved: LogPosition | 'next' | null = 'next';

  const isReplay = (eventPosition: LogPosition) => linkedPosition !== null && comparePositions(eventPosition, linkedPosition) <= 0;

  const received = (first: ChangeEvent | undefined) => {
    if (unobserved === 'next' && first) unobserved = positionOf(first.tx);
  };

  /** Before a write: once the writes behind a failed insert have failed too, link on what is stored. */
  const recoverFromFailure = () => {
    if (failure === null || pending > 0) return;
    failure = null;
    linkedHeads = heads;
    linkedPosition = position;
  };

  const store = (audited: AuditedEvent[], last: LogPosition | null, skipped: number): Promise<void> => {
    if (failure) return Promise.reject(failure);
    let prepared: PreparedEntries | null = null;
    let headsAfter = linkedHeads;
    const chained: ChainedEntry[] | null = deps.onChained ? [] : null;
    if (last) {
      // Each entry is encoded as it is linked: only the encoded rows wait for the insert.
      const batch = deps.store.startBatch();
      const take = chained ? (entry: AuditEntry, body: string) => {
        batch.add(entry, body);
        chained.push({ partition, retentionDays: entry.retentionDays, id: entry.id, hash: entry.hash, committedAt: entry.tx.commitTime });
      } : (entry: AuditEntry, body: string) => batch.add(entry, body);
      headsAfter = linkedHeads = linkEachIntoChains(linkedHeads, audited, take, partition);
      prepared = batch.finish();
      linkedPosition = last;
    }
    // The events wait for the observers only when there are any.
    const observed = observers.length > 0 ? audited : [];
    const previous = inFlight;
    pending++;
    const done = (async () => {
      await previous;
      if (failure) throw failure;
      try {
        if (prepared) {
          await retryWhileRetriable(() => deps.store.insertPrepared(prepared), deps.retry);
          heads = headsAfter;
          position = last;
          if (chained) deps.onChained!(chained);
          deps.onStored?.(prepared.entries, skipped);
        } else deps.onStored?.(0, skipped);
        const from = unobserved === 'next' ? null : unobserved;
        // A batch of replays only still goes to the observers when they may have missed its entries.
        if (!prepared && !from) return;
        const stream: StoredBatchStream = from ? { partition, unobservedFrom: from } : { partition };
        try {
          for (const observe of observers) await observe(observed, stream);
        } catch (error) {
          // This batch is stored: retried, it comes back as replays, so the next call names it.
          if (!from && observed.length > 0) unobserved = positionOf(observed[0]!.event.tx);
          throw error;
        }
        if (from) unobserved = null;
      } catch (error) {
        failure = error;
        throw error;
      }
    })().finally(() => pending--);
    // The next write waits for this one and fails with its error (read from `failure`).
    inFlight = done.catch(() => undefined);
    return done;
  };

  return {
    get position() {
      return position;
    },
    async init(source?: SourceIdentity) {
      if (source) await claimStore(deps, source);
      await inFlight;
      failure = null;
      const stored = (await retryWhileRetriable(() => deps.store.chainHeads(), deps.retry)).filter((head) => (head.partition ?? 0) === partition);
      heads = new Map(stored.map((head) => [head.chain, head.hash]));
      linkedHeads = heads;
      position = null;
      for (const head of stored) {
        const candidate = { lsn: head.lsn, seq: head.seq };
        if (!position || comparePositions(candidate, position) > 0) position = candidate;
      }
      linkedPosition = position;
      const knownShapes = await retryWhileRetriable(() => deps.store.knownShapes(), deps.retry);
      return { heads: stored, knownShapes };
    },
    queuesWrites: true,
    // async only so that a throw becomes a rejection: the body up to store()'s insert runs at the call.
    async write(events: ChangeEvent[]) {
      recoverFromFailure();
      received(events[0]);
      const audited: AuditedEvent[] = [];
      let last: LogPosition | null = null;
      let skipped = 0;
      for (const event of events) {
        const eventPosition = positionOf(event.tx);
        if (isReplay(eventPosition)) {
          skipped++;
          continue;
        }
        const kept = applyAuditRules(event, deps.rules);
        if (kept) {
          audited.push(kept);
          last = eventPosition;
        } else skipped++;
      }
      return store(audited, last, skipped);
    },
    async writeAudited(events: readonly AuditedEvent[]) {
      recoverFromFailure();
      received(events[0]?.event);
      const audited: AuditedEvent[] = [];
      let last: LogPosition | null = null;
      let skipped = 0;
      for (const item of events) {
        const eventPosition = positionOf(item.event.tx);
        if (isReplay(eventPosition) || (last && comparePositions(eventPosition, last) <= 0)) {
          // The second test: a reader restart can repeat a transaction within one batch.
          skipped++;
          continue;
        }
        audited.push(item);
        last = eventPosition;
      }
      return store(audited, last, skipped);
    },
  };
}

async function claimStore(deps: AuditWriterDeps, source: SourceIdentity): Promise<void> {
  const owner = await retryWhileRetriable(() => deps.store.sourceIdentity(), deps.retry);
  const mismatch = sourceMismatch(owner, source, deps.storeLabel ?? 'the audit store');
  if (mismatch) throw mismatch;
  if (owner === null) await retryWhileRetriable(() => deps.store.recordSourceIdentity(source), deps.retry);
}
