import type { ActionDetail } from './change-event.types.js';

/**
 * A partition that joined or left an audited partitioned table (ATTACH / DETACH PARTITION,
 * CREATE TABLE ... PARTITION OF, DROP TABLE of a partition), from the event triggers walaudit setup
 * installs (prefix `walaudit.partition`, schemas/postgres/partition-events.sql). pgoutput sends no
 * DDL, yet each of these changes what the table holds without a row change: so each is an action
 * entry of the partitioned table (the tree's root), named `partition.attach` or `partition.detach`.
 */
export interface PartitionChange {
  schema: string;
  table: string;
  action: ActionDetail;
}

export const PARTITION_ACTIONS = ['partition.attach', 'partition.detach'] as const;

/** The entry the marker stands for, or null when it is not one (a malformed marker is never guessed at). */
export function parsePartitionChange(value: Record<string, unknown>): PartitionChange | null {
  const { rootSchema, rootTable, publications: _publications, name, ...rest } = value;
  if (typeof rootSchema !== 'string' || typeof rootTable !== 'string' || typeof rest.partition !== 'string') return null;
  if (typeof name !== 'string' || !(PARTITION_ACTIONS as readonly string[]).includes(name)) return null;
  return { schema: rootSchema, table: rootTable, action: { name, ...rest } };
}

/**
 * Whether the marker concerns the reader of `publication`: the event triggers serve every walaudit
 * instance in the database, and each records only the tables its own publication publishes.
 * A marker without the list (or not JSON) is kept: the decoder then says what is wrong with it.
 */
export function partitionChangeConcerns(content: string, publication: string): boolean {
  try {
    const parsed: unknown = JSON.parse(content);
    const publications = parsed && typeof parsed === 'object' ? (parsed as { publications?: unknown }).publications : undefined;
    return !Array.isArray(publications) || publications.includes(publication);
  } catch {
    return true;
  }
}
