import type pg from 'pg';
import {
  findRule,
  keyText,
  qualifiedName,
  type AuditEntry,
  type AuditRule,
  type CurrentColumn,
  type DatabaseFacts,
  type ForeignKey,
  type RestoreSelection,
  type RowImage,
  type TableFacts,
} from '@walaudit/core';
import { quoteIdent, quoteTable } from '@walaudit/pg';

interface ColumnRow {
  schema: string;
  table: string;
  name: string;
  type: string;
  not_null: boolean;
  has_default: boolean;
  generated: boolean;
  identity_always: boolean;
  primary_key: boolean;
  can_insert: boolean;
  can_update: boolean;
}

/** Columns, key and privileges of the current role, for each named table (absent: it no longer exists). */
const TABLES_SQL = `
SELECT n.nspname AS schema, c.relname AS "table", a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
       a.attnotnull AS not_null, (a.atthasdef OR a.attidentity <> '') AS has_default, a.attgenerated <> '' AS generated,
       a.attidentity = 'a' AS identity_always,
       EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary AND a.attnum = ANY (i.indkey::int2[])) AS primary_key,
       has_table_privilege(c.oid, 'INSERT') AS can_insert, has_table_privilege(c.oid, 'UPDATE') AS can_update
  FROM unnest($1::text[], $2::text[]) AS wanted(schema, "table")
  JOIN pg_namespace n ON n.nspname = wanted.schema
  JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = wanted."table" AND c.relkind IN ('r', 'p')
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY n.nspname, c.relname, a.attnum`;

/**
 * Values exactly as the type's output function prints them, as the WAL carries them: `::text` is
 * not that for every type (boolean gives true, not t; inet adds /32).
 */
export const OUTPUT_TEXT = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

/** Reads what the plan needs, in the restore's transaction, so the check and the inserts see one state. */
export async function readDatabaseFacts(client: pg.ClientBase, selection: RestoreSelection, foreignKeys: ForeignKey[], rules: readonly AuditRule[]): Promise<DatabaseFacts> {
  // Entries come in runs of one table (a cascade's levels): the name and facts are looked up once per run.
  const deletesByTable = byTable(selection.deletes);
  const updatesByTable = byTable([...selection.nullings.map((n) => n.entry), ...selection.reverts]);
  const names = [...new Map([...deletesByTable, ...updatesByTable].map(([q, [first]]) => [q, [first!.schema, first!.table] as const])).values()];
  const tables = await readTables(client, names);

  const rows = new Map<string, Map<string, RowImage>>();
  // Current rows at the keys being restored (deleted rows' keys, updated rows' current keys).
  const wanted = new Map<string, Set<string>>();
  const want = (groups: Map<string, AuditEntry[]>, image: 'before' | 'after') => {
    for (const [q, group] of groups) {
      const table = tables.get(q);
      if (!table?.exists || table.primaryKey.length === 0) continue;
      let set = wanted.get(q);
      if (!set) wanted.set(q, (set = new Set()));
      for (const entry of group) {
        const key = keyText(entry[image] ?? {}, table.primaryKey);
        if (key !== null) set.add(key);
      }
    }
  };
  want(deletesByTable, 'before');
  want(updatesByTable, 'after');
  for (const [q, keys] of wanted) {
    const table = tables.get(q)!;
    rows.set(q, await readRowsByKey(client, table, table.primaryKey, [...keys], [...table.columns.keys()]));
  }

  // Foreign-key targets outside the restore: are they in the database now?
  const restoredKeys = new Map<string, Set<string>>();
  const presentTargets = new Set<string>();
  for (const fk of foreignKeys) {
    const children = deletesByTable.get(qualifiedName(fk.schema, fk.table));
    if (!children) continue;
    const refName = `${qualifiedName(fk.refSchema, fk.refTable)}\u0000${fk.refColumns.join('\u0000')}`;
    let inSet = restoredKeys.get(refName);
    if (!inSet) {
      inSet = new Set();
      for (const parent of deletesByTable.get(qualifiedName(fk.refSchema, fk.refTable)) ?? []) {
        const key = keyText(parent.before ?? {}, fk.refColumns);
        if (key !== null) inSet.add(key);
      }
      restoredKeys.set(refName, inSet);
    }
    const targets = new Set<string>();
    for (const child of children) {
      const key = keyText(child.before ?? {}, fk.columns);
      if (key !== null && !inSet.has(key)) targets.add(key);
    }
    const parent = tables.get(qualifiedName(fk.refSchema, fk.refTable)) ?? (await readTables(client, [[fk.refSchema, fk.refTable]])).get(qualifiedName(fk.refSchema, fk.refTable));
    if (targets.size === 0 || !parent?.exists) continue;
    const found = await readRowsByKey(client, parent, fk.refColumns, [...targets], []);
    for (const key of found.keys()) presentTargets.add(`${fk.name}\u0000${key}`);
  }

  const maskedColumns = new Set<string>();
  for (const [schema, table] of names) {
    for (const mask of findRule(rules, schema, table)?.mask ?? []) maskedColumns.add(`${qualifiedName(schema, table)}.${mask.column}`);
  }
  return { tables, foreignKeys, rows, presentTargets, maskedColumns };
}

/** Entries by `schema.table`, in order; the name is built once per run of one table. */
function byTable(entries: readonly AuditEntry[]): Map<string, AuditEntry[]> {
  const groups = new Map<string, AuditEntry[]>();
  let previous: AuditEntry | undefined;
  let group: AuditEntry[] = [];
  for (const entry of entries) {
    if (!previous || previous.table !== entry.table || previous.schema !== entry.schema) {
      const q = qualifiedName(entry.schema, entry.table);
      let found = groups.get(q);
      if (!found) groups.set(q, (found = []));
      group = found;
    }
    group.push(entry);
    previous = entry;
  }
  return groups;
}

async function readTables(client: pg.ClientBase, names: (readonly [string, string])[]): Promise<Map<string, TableFacts>> {
  const tables = new Map<string, TableFacts>();
  for (const [schema, table] of names) {
    tables.set(qualifiedName(schema, table), { schema, table, exists: false, columns: new Map(), primaryKey: [], canInsert: false, canUpdate: false });
  }
  const result = await client.query<ColumnRow>(TABLES_SQL, [names.map(([s]) => s), names.map(([, t]) => t)]);
  for (const row of result.rows) {
    const facts = tables.get(qualifiedName(row.schema, row.table))!;
    facts.exists = true;
    facts.canInsert = row.can_insert;
    facts.canUpdate = row.can_update;
    const column: CurrentColumn = { name: row.name, type: row.type, notNull: row.not_null, hasDefault: row.has_default, generated: row.generated, identityAlways: row.identity_always };
    facts.columns.set(row.name, column);
    if (row.primary_key) facts.primaryKey.push(row.name);
  }
  // Key columns in column order: every key text of a table is built with this same list, so the
  // lookups agree whatever the constraint's own column order.
  return tables;
}

/**
 * The rows whose `keyColumns` hold one of `keys` (keyText form), by key text, with `columns` as
 * Postgres text. Keys travel as text arrays and are cast in SQL, so any key type works.
 */
async function readRowsByKey(client: pg.ClientBase, table: TableFacts, keyColumns: readonly string[], keys: string[], columns: readonly string[]): Promise<Map<string, RowImage>> {
  const found = new Map<string, RowImage>();
  const types = keyColumns.map((name) => table.columns.get(name)?.type ?? 'text');
  const selected = [...new Set([...keyColumns, ...columns])];
  const list = selected.map((name) => `t.${quoteIdent(name)}`).join(', ');
  const match = keyColumns.map((name, i) => `t.${quoteIdent(name)} = u.k${i}::${types[i]}`).join(' AND ');
  const unnest = keyColumns.map((_, i) => `$${i + 1}::text[]`).join(', ');
  const aliases = keyColumns.map((_, i) => `k${i}`).join(', ');
  const sql = `SELECT ${list} FROM ${quoteTable(table.schema, table.table)} t JOIN unnest(${unnest}) AS u(${aliases}) ON ${match}`;
  for (let start = 0; start < keys.length; start += 10_000) {
    const page = keys.slice(start, start + 10_000).map((key) => key.split('\u0000'));
    const result = await client.query<RowImage>({ text: sql, values: keyColumns.map((_, i) => page.map((parts) => parts[i]!)), types: OUTPUT_TEXT });
    for (const row of result.rows) {
      const key = keyText(row, keyColumns);
      if (key !== null) found.set(key, row);
    }
  }
  return found;
}
