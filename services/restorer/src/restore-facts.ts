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

/**
 * Reads what the plan needs, in the restore's transaction, so the check and the inserts see one
 * state. Deletes come in pages while the audit store is still reading the next ones: each page's
 * current rows are looked up in Postgres meanwhile (queued on the restore's connection), then the
 * page is handed to `onChecked` (the planner takes it from there); finish() reads the rest, which
 * needs the whole selection. `facts` fills as pages are checked: a table's facts, masked columns
 * and current rows are in before its first page is handed on.
 */
export class DatabaseFactsReader {
  readonly facts: DatabaseFacts;
  private readonly tables = new Map<string, TableFacts>();
  /** Current rows at the keys being restored (deleted rows' keys, updated rows' current keys). */
  private readonly rows = new Map<string, Map<string, RowImage>>();
  private client!: pg.ClientBase;
  private work: Promise<void>;

  /** `opening`: the restore's connection once its transaction has begun. */
  constructor(opening: Promise<pg.ClientBase>, private readonly rules: readonly AuditRule[]) {
    this.facts = { tables: this.tables, foreignKeys: [], rows: this.rows, presentTargets: new Set(), maskedColumns: new Set() };
    this.work = opening.then((client) => {
      this.client = client;
    });
    this.work.catch(() => undefined);
  }

  /** Queues the lookup of the rows present now at these deleted rows' keys, then `onChecked`. */
  addDeletes(page: readonly AuditEntry[], onChecked: (page: readonly AuditEntry[]) => void = () => undefined): void {
    const groups = byTable(page);
    this.work = this.work.then(async () => {
      await this.lookUp(groups, 'before');
      onChecked(page);
    });
    // A failure is thrown by finish(); a restore that fails before it must not see it unhandled.
    this.work.catch(() => undefined);
  }

  async finish(selection: RestoreSelection, foreignKeys: ForeignKey[]): Promise<DatabaseFacts> {
    await this.work;
    const { client, tables, facts } = this;
    facts.foreignKeys = foreignKeys;
    await this.lookUp(byTable([...selection.nullings.map((n) => n.entry), ...selection.reverts]), 'after');

    // Foreign-key targets outside the restore: are they in the database now?
    const deletesByTable = byTable(selection.deletes);
    const restoredKeys = new Map<string, Set<string>>();
    const { presentTargets } = facts;
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
    return facts;
  }

  /** Reads the facts of tables not seen yet, then the current rows at the entries' keys. */
  private async lookUp(groups: Map<string, AuditEntry[]>, image: 'before' | 'after'): Promise<void> {
    const unseen = [...groups].filter(([q]) => !this.tables.has(q)).map(([, [first]]) => [first!.schema, first!.table] as const);
    if (unseen.length > 0) {
      for (const [q, table] of await readTables(this.client, unseen)) {
        this.tables.set(q, table);
        for (const mask of findRule(this.rules, table.schema, table.table)?.mask ?? []) this.facts.maskedColumns.add(`${q}.${mask.column}`);
      }
    }
    for (const [q, group] of groups) {
      const table = this.tables.get(q)!;
      if (!table.exists || table.primaryKey.length === 0) continue;
      const keys: string[] = [];
      for (const entry of group) {
        const key = keyText(entry[image] ?? {}, table.primaryKey);
        if (key !== null) keys.push(key);
      }
      let found = this.rows.get(q);
      if (!found) this.rows.set(q, (found = new Map()));
      for (const [key, row] of await readRowsByKey(this.client, table, table.primaryKey, keys, [...table.columns.keys()])) found.set(key, row);
    }
  }
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
 * Postgres text. Keys travel as one JSON array (a string each, or an array of strings for a
 * composite key; JSON.stringify is native, pg's text[] encoder escapes element by element in JS)
 * and are cast in SQL, so any key type works.
 */
async function readRowsByKey(client: pg.ClientBase, table: TableFacts, keyColumns: readonly string[], keys: string[], columns: readonly string[]): Promise<Map<string, RowImage>> {
  const found = new Map<string, RowImage>();
  const types = keyColumns.map((name) => table.columns.get(name)?.type ?? 'text');
  const selected = [...new Set([...keyColumns, ...columns])];
  const list = selected.map((name) => `t.${quoteIdent(name)}`).join(', ');
  const single = keyColumns.length === 1;
  const match = single
    ? `t.${quoteIdent(keyColumns[0]!)} = u.k::${types[0]}`
    : keyColumns.map((name, i) => `t.${quoteIdent(name)} = (u.k->>${i})::${types[i]}`).join(' AND ');
  const sql = `SELECT ${list} FROM ${quoteTable(table.schema, table.table)} t JOIN ${single ? 'json_array_elements_text' : 'json_array_elements'}($1::json) AS u(k) ON ${match}`;
  for (let start = 0; start < keys.length; start += 10_000) {
    const page = keys.slice(start, start + 10_000);
    const values = JSON.stringify(single ? page : page.map((key) => key.split('\u0000')));
    const result = await client.query<RowImage>({ text: sql, values: [values], types: OUTPUT_TEXT });
    for (const row of result.rows) {
      const key = keyText(row, keyColumns);
      if (key !== null) found.set(key, row);
    }
  }
  return found;
}
