import type { AuditEntry, RowImage } from '../change-event.types.js';
import { keyText, qualifiedName } from '../cascade/foreign-key.types.js';
import type { ColumnValue, ConflictKind, DatabaseFacts, RestoreConflict, StepColumn, TableFacts, UpdateStep } from './restore.types.js';

/**
 * What one row of a plan becomes: the columns of an insert (decided once per table and column
 * list), an update; shared by planRestore and RestorePlanner.
 */

/** Records a conflict under the plan's policy and returns what is done about it. */
export type ConflictFn = (entry: AuditEntry, kind: ConflictKind, detail: string, allowed: RestoreConflict['resolution'], column?: string, onceKey?: string) => RestoreConflict['resolution'];

/** What to do with each column of one table's entries: decided once per table and column list. */
export interface ColumnPlan {
  source: AuditEntry['columns'];
  /** A GENERATED ALWAYS identity column is among the kept ones. */
  identityAlways: boolean;
  kept: { name: string; type: string; masked: boolean; notNullNoDefault: boolean }[];
  /** The kept columns as steps name them: shared by every step that has them all. */
  columns: StepColumn[];
  unrestorable: string | null;
}

function sameColumns(a: AuditEntry['columns'], b: AuditEntry['columns']): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.name !== b[i]!.name || a[i]!.type !== b[i]!.type) return false;
  return true;
}

/** What to do with the entry's columns: decided once per table and column list. */
export function columnPlanOf(q: string, entry: AuditEntry, table: TableFacts, facts: DatabaseFacts, conflict: ConflictFn, cache: Map<string, ColumnPlan>): ColumnPlan {
  let plan = cache.get(q);
  if (!plan || !sameColumns(plan.source, entry.columns)) {
    plan = planColumns(entry, table, facts, conflict);
    cache.set(q, plan);
  }
  return plan;
}

/** The entry's columns that can go back (present now, same type, not masked, not generated), and their values. */
export function restorableColumns(q: string, entry: AuditEntry, before: RowImage, plan: ColumnPlan, conflict: ConflictFn): { columns: readonly StepColumn[]; values: (string | null)[]; unrestorable: string | null } {
  let unrestorable = plan.unrestorable;
  const values: (string | null)[] = [];
  let all = true;
  for (const column of plan.kept) {
    // A row image holds text or null: undefined is a column the image lacks.
    const value = before[column.name];
    if (value === undefined) {
      all = false;
      continue;
    }
    if (column.masked && value !== null) {
      conflict(entry, 'masked', `column ${column.name} was masked by an audit rule: its value was never stored, left out`, 'column-left-out', column.name, `${q}|${column.name}|masked`);
      if (column.notNullNoDefault) unrestorable ??= `column ${column.name} cannot be restored (masked) and is NOT NULL without a default`;
      all = false;
      continue;
    }
    values.push(value);
  }
  if (all) return { columns: plan.columns, values, unrestorable };
  // Some left out for this row only: its own list, the same test as above.
  const columns = plan.columns.filter((_, i) => {
    const column = plan.kept[i]!;
    const value = before[column.name];
    return value !== undefined && !(column.masked && value !== null);
  });
  return { columns, values, unrestorable };
}

function planColumns(entry: AuditEntry, table: TableFacts, facts: DatabaseFacts, conflict: ConflictFn): ColumnPlan {
  const q = qualifiedName(entry.schema, entry.table);
  const kept: ColumnPlan['kept'] = [];
  let unrestorable: string | null = null;
  for (const column of entry.columns) {
    const current = table.columns.get(column.name);
    if (!current) {
      conflict(entry, 'column-missing', `column ${column.name} (${column.type}) no longer exists in ${q}: left out`, 'column-left-out', column.name, `${q}|${column.name}|column-missing`);
      continue;
    }
    if (current.generated) continue;
    if (current.type !== column.type) {
      conflict(entry, 'type-changed', `column ${column.name} was ${column.type}, is ${current.type} now: left out`, 'column-left-out', column.name, `${q}|${column.name}|type-changed`);
      if (current.notNull && !current.hasDefault) unrestorable ??= `column ${column.name} cannot be restored (type-changed) and is NOT NULL without a default`;
      continue;
    }
    kept.push({ name: column.name, type: column.type, masked: facts.maskedColumns.has(`${q}.${column.name}`), notNullNoDefault: current.notNull && !current.hasDefault });
  }
  for (const current of table.columns.values()) {
    if (current.notNull && !current.hasDefault && !current.generated && !kept.some((c) => c.name === current.name)) {
      unrestorable ??= `column ${current.name} is NOT NULL without a default and the entry has no value for it`;
    }
  }
  const identityAlways = kept.some((c) => table.columns.get(c.name)?.identityAlways === true);
  return { source: entry.columns, identityAlways, kept, columns: kept.map(({ name, type }) => ({ name, type })), unrestorable };
}

export function planUpdate(entry: AuditEntry, columns: readonly string[], why: UpdateStep['why'], facts: DatabaseFacts, conflict: ConflictFn): UpdateStep | null {
  const q = qualifiedName(entry.schema, entry.table);
  const table = facts.tables.get(q);
  if (!table?.exists) {
    conflict(entry, 'table-missing', `table ${q} no longer exists`, 'skipped');
    return null;
  }
  if (table.primaryKey.length === 0) {
    conflict(entry, 'not-restorable', `${q} has no primary key: the row cannot be found again`, 'skipped');
    return null;
  }
  const after = entry.after ?? {};
  const before = entry.before ?? {};
  const typeOf = (name: string) => entry.columns.find((c) => c.name === name)?.type ?? table.columns.get(name)?.type ?? 'text';
  const current = facts.rows.get(q)?.get(keyText(after, table.primaryKey) ?? '');
  if (!current) {
    conflict(entry, 'row-missing', `the row ${describeKey(entry.pk)} is no longer in ${q}`, 'skipped');
    return null;
  }
  const set: ColumnValue[] = [];
  const expect: ColumnValue[] = [];
  for (const name of columns) {
    const now = table.columns.get(name);
    if (!now || now.type !== typeOf(name)) {
      conflict(entry, now ? 'type-changed' : 'column-missing', `column ${name} ${now ? `is ${now.type} now` : 'no longer exists'}: left out`, 'column-left-out', name);
      continue;
    }
    set.push({ name, type: now.type, value: before[name] ?? null });
    expect.push({ name, type: now.type, value: after[name] ?? null });
  }
  if (set.length === 0) return null;
  if (set.every((c) => current[c.name] === c.value)) return null;
  const changed = expect.filter((c) => current[c.name] !== c.value).map((c) => c.name);
  if (changed.length > 0) {
    conflict(entry, 'changed-since', `${changed.join(', ')} changed again since this entry: not overwritten`, 'skipped');
    return null;
  }
  const where = table.primaryKey.map((name) => ({ name, type: table.columns.get(name)!.type, value: after[name] ?? null }));
  return { entryId: entry.id, schema: entry.schema, table: entry.table, key: entry.pk, set, where, expect, why };
}

export function describeKey(key: RowImage | null): string {
  return key ? Object.entries(key).map(([name, value]) => `${name}=${value ?? 'NULL'}`).join(',') : '(no key)';
}
