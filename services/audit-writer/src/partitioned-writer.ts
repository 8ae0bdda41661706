import { AUDIT_EVERYTHING, type AuditStore, type PartitionedSink, type RetryPolicy, type StoredBatchObserver } from '@walaudit/core';
import { createAuditWriter, type AuditWriter } from './audit-writer.js';

export interface PartitionedWriterDeps {
  store: AuditStore;
  retry: RetryPolicy;
  /** See AuditWriterDeps.observers; each stored batch names its partition. */
  observers?: readonly StoredBatchObserver[];
  /** Called after each durable insert, of any partition. */
  onStored?: (stored: number, skipped: number) => void;
}

/**
 * The store side of a distributed writer: one AuditWriter per partition of `<prefix>.changes`
 * (each partition has its own chains and replay position, see schemas/canonical-encoding.md),
 * created from the store's chain heads the first time a partition is written after each
 * assignment, so it continues exactly where the partition's previous owner stopped. The reader
 * applied the audit rules before publishing: the writers store the events as they come.
 */
export function createPartitionedWriter(deps: PartitionedWriterDeps): PartitionedSink {
  /** Replaced at every assignment: another writer may have stored more of a partition meanwhile. */
  let writers = new Map<number, Promise<AuditWriter>>();

  return {
    assigned() {
      writers = new Map();
    },
    writerFor(partition: number) {
      let writer = writers.get(partition);
      if (!writer) {
        const created = createAuditWriter({
          store: deps.store,
          rules: { rules: [AUDIT_EVERYTHING], defaultRetentionDays: 0 },
          retry: deps.retry,
          observers: deps.observers,
          onStored: deps.onStored,
          partition,
        });
        const initialised = created.init().then(() => created);
        // A failed init is retried with the next batch, not kept (unless an assignment replaced it already).
        const current = writers;
        initialised.catch(() => {
          if (current.get(partition) === initialised) current.delete(partition);
        });
        current.set(partition, initialised);
        writer = initialised;
      }
      return writer;
    },
  };
}
