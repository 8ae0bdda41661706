import type pg from 'pg';
import type { ForeignKey, ForeignKeyAction } from '@walaudit/core';
import { toWalauditError } from './pg-errors.js';

/** pg_constraint.confdeltype: a NO ACTION, r RESTRICT, c CASCADE, n SET NULL, d SET DEFAULT. */
const ACTIONS: Record<string, ForeignKeyAction> = { a: 'no-action', r: 'restrict', c: 'cascade', n: 'set-null', d: 'set-default' };

/**
 * Every foreign key of the database's user tables, composite keys with their columns paired by
 * position (conkey[i] references confkey[i]). Partitions inherit their parent's constraints
 * (conparentid != 0): only the declared one is listed, as the WAL names the partition's root
 * only when publish_via_partition_root is set. SET NULL with a column list (Postgres 15) nulls
 * only those columns; it is reported as set-null like the rest.
 */
export const FOREIGN_KEYS_SQL = `
SELECT c.conname AS name,
       ns.nspname AS schema, cl.relname AS "table",
       rns.nspname AS ref_schema, rcl.relname AS ref_table,
       c.confdeltype AS on_delete,
       ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, i)
               JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.i)::text[] AS columns,
       ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, i)
               JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.i)::text[] AS ref_columns
  FROM pg_constraint c
  JOIN pg_class cl ON cl.oid = c.conrelid
  JOIN pg_namespace ns ON ns.oid = cl.relnamespace
  JOIN pg_class rcl ON rcl.oid = c.confrelid
  JOIN pg_namespace rns ON rns.oid = rcl.relnamespace
 WHERE c.contype = 'f' AND c.conparentid = 0
   AND ns.nspname NOT IN ('pg_catalog', 'information_schema') AND ns.nspname NOT LIKE 'pg_toast%'
 ORDER BY ns.nspname, cl.relname, c.conname`;

interface ForeignKeyRow {
  name: string;
  schema: string;
  table: string;
  ref_schema: string;
  ref_table: string;
  on_delete: string;
  columns: string[];
  ref_columns: string[];
}

/** Reads the foreign keys through an open client. */
export async function loadForeignKeys(client: pg.ClientBase, url?: string): Promise<ForeignKey[]> {
  let rows: ForeignKeyRow[];
  try {
    rows = (await client.query<ForeignKeyRow>(FOREIGN_KEYS_SQL)).rows;
  } catch (error) {
    throw toWalauditError(error, { url, action: 'reading the foreign keys (pg_constraint)' });
  }
  return rows.map((row) => ({
    name: row.name,
    schema: row.schema,
    table: row.table,
    columns: row.columns,
    refSchema: row.ref_schema,
    refTable: row.ref_table,
    refColumns: row.ref_columns,
    onDelete: ACTIONS[row.on_delete] ?? 'no-action',
  }));
}
