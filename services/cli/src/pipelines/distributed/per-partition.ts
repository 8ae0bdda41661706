import type { StoredBatchObserver } from '@walaudit/core';
type BatchHandler = (...batch: Parameters<StoredBatchObserver>) => Promise<void>;

/**
 * One observer per partition of `<prefix>.changes`, created with the partition's first batch. For
 * observers that keep a position or a transaction's state: batches of one partition arrive in log
 * order, batches of different partitions interleave in no order. A creation that fails (Postgres
 * unreachable) is not kept: the batch fails, the writer retries it, and the next try creates again.
 */
export function perPartition(create: (partition: number) => Promise<BatchHandler>): StoredBatchObserver {
  const handlers = new Map<number, Promise<BatchHandler>>();
  return async (stored, stream) => {
    const { partition } = stream;
    let handler = handlers.get(partition);
    if (!handler) {
      handler = create(partition);
      handlers.set(partition, handler);
      handler.catch(() => handlers.delete(partition));
    }
    await (await handler)(stored, stream);
  };
}
