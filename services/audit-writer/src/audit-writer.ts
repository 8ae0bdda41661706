import {
  applyAuditRules,
  comparePositions,
  linkIntoChains,
  positionOf,
  type AuditedEvent,
  type AuditStore,
  type ChainHead,
  type ChangeEvent,
  type ChangeSink,
  type ColumnDef,
  type LogPosition,
  type RuleContext,
  type SourceIdentity,
  sourceMismatch,
} from '@walaudit/core';
import { retryWhileRetriable, type RetryPolicy } from './retry.js';

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
   * Distributed mode: the partition of the Kafka changes topic this writer stores. Each partition
   * has its own chains and its own replay position, because partitions are consumed independently
   * (by several writers). Default 0, the standalone mode's only stream.
   */
  partition?: number;
}

/**
 * Receives the events of one durable batch, after the audit rules (masked as stored), and the
 * stream they belong to: batches of one partition arrive in log order, batches of different
 * partitions (distributed mode) interleave in no order, so an observer that keeps a position or
 * a transaction's state keeps one per partition.
 */
export type StoredBatchObserver = (stored: readonly AuditedEvent[], stream: StoredBatchStream) => void | Promise<void>;

export interface StoredBatchStream {
  /** The Kafka partition of `<prefix>.changes` (distributed mode); 0 in standalone mode. */
  partition: number;
}

export interface AuditWriter extends ChangeSink {
  /**
   * Reads the chain heads and the stored table shapes; call once before the first write. With
   * `source`, first checks that the store belongs to that source (STORE_OTHER_SOURCE otherwise) and
   * records it in a store that has none yet.
   */
  init(source?: SourceIdentity): Promise<{ heads: ChainHead[]; knownShapes: Map<string, ColumnDef[]> }>;
  /**
   * Stores events the audit rules were already applied to (the distributed reader applies them
   * before publishing, so masked values never reach Kafka). Replays are dropped as in write().
   */
  writeAudited(events: readonly AuditedEvent[]): Promise<void>;
  /** Position of the newest stored entry (of this writer's partition), or null for an empty log. */
  readonly position: LogPosition | null;
}

/**
 * Rules, then the hash chains, then the store. Events at or below the newest stored position are
 * replays (the slot re-sends what was not confirmed) and are dropped, so nothing is stored twice
 * and every chain stays linear.
 */
export function createAuditWriter(deps: AuditWriterDeps): AuditWriter {
  let heads = new Map<number, string>();
  let position: LogPosition | null = null;
  const partition = deps.partition ?? 0;

  const isReplay = (eventPosition: LogPosition) => position !== null && comparePositions(eventPosition, position) <= 0;

  const store = async (audited: AuditedEvent[], last: LogPosition | null, skipped: number) => {
    if (!last) {
      deps.onStored?.(0, skipped);
      return;
    }
    const linked = linkIntoChains(heads, audited, partition);
    await retryWhileRetriable(() => deps.store.insertEntries(linked.entries, linked.bodies), deps.retry);
    heads = linked.heads;
    position = last;
    deps.onStored?.(linked.entries.length, skipped);
    for (const observe of deps.observers ?? []) await observe(audited, { partition });
  };

  return {
    get position() {
      return position;
    },
    async init(source?: SourceIdentity) {
      if (source) await claimStore(deps, source);
      const stored = (await retryWhileRetriable(() => deps.store.chainHeads(), deps.retry)).filter((head) => (head.partition ?? 0) === partition);
      heads = new Map(stored.map((head) => [head.chain, head.hash]));
      position = null;
      for (const head of stored) {
        const candidate = { lsn: head.lsn, seq: head.seq };
        if (!position || comparePositions(candidate, position) > 0) position = candidate;
      }
      const knownShapes = await retryWhileRetriable(() => deps.store.knownShapes(), deps.retry);
      return { heads: stored, knownShapes };
    },
    async write(events: ChangeEvent[]) {
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
      await store(audited, last, skipped);
    },
    async writeAudited(events: readonly AuditedEvent[]) {
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
      await store(audited, last, skipped);
    },
  };
}

async function claimStore(deps: AuditWriterDeps, source: SourceIdentity): Promise<void> {
  const owner = await retryWhileRetriable(() => deps.store.sourceIdentity(), deps.retry);
  const mismatch = sourceMismatch(owner, source, deps.storeLabel ?? 'the audit store');
  if (mismatch) throw mismatch;
  if (owner === null) await retryWhileRetriable(() => deps.store.recordSourceIdentity(source), deps.retry);
}
