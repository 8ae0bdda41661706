import {
  applyAuditRules,
  comparePositions,
  GENESIS_HASH,
  linkEntries,
  positionOf,
  type AuditedEvent,
  type AuditStore,
  type ChainHead,
  type ChangeEvent,
  type ChangeSink,
  type ColumnDef,
  type LogPosition,
  type RuleContext,
} from '@walaudit/core';
import { retryWhileRetriable, type RetryPolicy } from './retry.js';

export interface AuditWriterDeps {
  store: AuditStore;
  rules: RuleContext;
  retry: RetryPolicy;
  /** Called after each durable insert. */
  onStored?: (stored: number, skipped: number) => void;
}

export interface AuditWriter extends ChangeSink {
  /** Reads the chain head and the stored table shapes; call once before the first write. */
  init(): Promise<{ head: ChainHead | null; knownShapes: Map<string, ColumnDef[]> }>;
  readonly head: ChainHead | null;
}

/**
 * Rules, then the hash chain, then the store. Events at or below the stored head are replays
 * (the slot re-sends what was not confirmed) and are dropped, so nothing is stored twice and
 * the chain stays linear.
 */
export function createAuditWriter(deps: AuditWriterDeps): AuditWriter {
  let head: ChainHead | null = null;
  let headPosition: LogPosition | null = null;

  return {
    get head() {
      return head;
    },
    async init() {
      head = await retryWhileRetriable(() => deps.store.chainHead(), deps.retry);
      headPosition = head ? { lsn: head.lsn, seq: head.seq } : null;
      const knownShapes = await retryWhileRetriable(() => deps.store.knownShapes(), deps.retry);
      return { head, knownShapes };
    },
    async write(events: ChangeEvent[]) {
      const audited: AuditedEvent[] = [];
      let last: ChangeEvent | null = null;
      let skipped = 0;
      for (const event of events) {
        const position = positionOf(event.tx);
        if (headPosition && comparePositions(position, headPosition) <= 0) {
          skipped++;
          continue;
        }
        const kept = applyAuditRules(event, deps.rules);
        if (kept) {
          audited.push(kept);
          last = event;
        } else skipped++;
      }
      if (!last) {
        deps.onStored?.(0, skipped);
        return;
      }
      const { entries, bodies, headHash } = linkEntries(head?.hash ?? GENESIS_HASH, audited);
      await retryWhileRetriable(() => deps.store.insertEntries(entries, bodies), deps.retry);
      const position = positionOf(last.tx);
      head = { id: last.id, lsn: position.lsn, seq: position.seq, hash: headHash };
      headPosition = position;
      deps.onStored?.(entries.length, skipped);
    },
  };
}
