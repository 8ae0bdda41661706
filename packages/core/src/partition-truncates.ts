/**
 * TRUNCATE of one partition, which pgoutput does not send when the publication publishes through
 * the partition root (publish_via_partition_root: "TRUNCATE operations performed directly on
 * partitions are not replicated"). The context trigger on the partition writes a marker
 * (prefix `walaudit.truncate`) instead. A TRUNCATE of the partitioned table fires every partition's
 * trigger too, and that one pgoutput does send (under the root's name): so a marker is held until
 * the next change of the transaction, dropped when that is the pgoutput truncate of its root (or of
 * the partition itself, when it is published on its own), and otherwise recorded as a truncate of
 * the partition.
 */
export interface PartitionTruncate {
  schema: string;
  table: string;
  rootSchema: string;
  rootTable: string;
}

/** The marker's JSON, or null when it is not one (a malformed marker is never guessed at). */
export function parsePartitionTruncate(value: Record<string, unknown>): PartitionTruncate | null {
  const { schema, table, rootSchema, rootTable } = value;
  if (typeof schema !== 'string' || typeof table !== 'string' || typeof rootSchema !== 'string' || typeof rootTable !== 'string') return null;
  return { schema, table, rootSchema, rootTable };
}

export class PendingPartitionTruncates {
  private pending: PartitionTruncate[] = [];

  get size(): number {
    return this.pending.length;
  }

  hold(marker: PartitionTruncate): void {
    this.pending.push(marker);
  }

  /** Takes the held markers, less those that pgoutput's truncate of `truncated` already records. */
  take(truncated: ReadonlySet<string> = new Set()): PartitionTruncate[] {
    const kept = this.pending.filter((m) => !truncated.has(`${m.rootSchema}.${m.rootTable}`) && !truncated.has(`${m.schema}.${m.table}`));
    this.pending = [];
    return kept;
  }

  clear(): void {
    this.pending = [];
  }
}
