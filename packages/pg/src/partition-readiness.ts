import type pg from 'pg';
import { withClient } from './pg-connect.js';
import { CONTEXT_TRIGGER } from './setup-plan.js';
import { displayTable } from './sql-names.js';

/**
 * Partitions the publication publishes (through their partitioned table) that `walaudit setup` has
 * not prepared: created or attached after it ran, they have Postgres's default REPLICA IDENTITY (their
 * deletes and updates carry only the key) and no context trigger (a statement naming the partition
 * has no who). Postgres publishes them at once; only setup can prepare them, so `start` says so.
 */
export async function unpreparedPartitions(url: string, publication: string): Promise<string[]> {
  return withClient(url, 'walaudit', (client) => unpreparedPartitionsOf((sql, params) => client.query(sql, params), publication));
}

/** unpreparedPartitions through a connection the caller holds (the slot monitor's, in a running start). */
export async function unpreparedPartitionsOf(run: (sql: string, params: unknown[]) => Promise<pg.QueryResult>, publication: string): Promise<string[]> {
  const { rows } = await run(
    `SELECT DISTINCT n.nspname AS schema, c.relname AS table
       FROM pg_publication_tables pt
      CROSS JOIN LATERAL pg_partition_tree(format('%I.%I', pt.schemaname, pt.tablename)::regclass) tree
       JOIN pg_class c ON c.oid = tree.relid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE pt.pubname = $1 AND tree.isleaf AND c.relkind = 'r'
        AND (c.relreplident <> 'f' OR NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = $2 AND NOT t.tgisinternal))
      ORDER BY 1, 2`,
    [publication, CONTEXT_TRIGGER],
  );
  return (rows as { schema: string; table: string }[]).map((r) => displayTable(r.schema, r.table));
}

/** The warning `start` logs for them, or null when there are none. */
export function unpreparedPartitionsWarning(partitions: readonly string[]): string | null {
  if (partitions.length === 0) return null;
  return `partition${partitions.length > 1 ? 's' : ''} ${partitions.join(', ')} ${partitions.length > 1 ? 'were' : 'was'} added after \`walaudit setup\`: ` +
    'audited under the partitioned table, but deletes and updates carry only the key and statements naming the partition have no actor until you run `walaudit setup` again';
}
