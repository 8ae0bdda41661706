import type { ColumnValue, InsertStep, RestorePlan, UpdateStep } from '@walaudit/core';
import { quoteIdent, quoteLiteral, quoteTable } from '@walaudit/pg';

/** `'text'::type`, the lossless way back from the stored text form; NULL stays NULL. */
export function castLiteral(value: string | null, type: string): string {
  return value === null ? 'NULL' : `${quoteLiteral(value)}::${type}`;
}

const cast = (column: ColumnValue) => castLiteral(column.value, column.type);

/** One INSERT per row, as a DBA would read (and could run) them. */
export function insertSql(step: InsertStep): string {
  const columns = step.columns.map((c) => quoteIdent(c.name)).join(', ');
  const values = step.columns.map((c, i) => castLiteral(step.values[i] ?? null, c.type)).join(', ');
  const overriding = step.overridingSystemValue ? ' OVERRIDING SYSTEM VALUE' : '';
  const note = step.newKey ? ' -- new key from the column default' : step.followsNewKey.length > 0 ? ' -- foreign key follows the new key of its parent' : '';
  return `INSERT INTO ${quoteTable(step.schema, step.table)} (${columns})${overriding} VALUES (${values});${note}`;
}

export function updateSql(step: UpdateStep): string {
  const set = step.set.map((c) => `${quoteIdent(c.name)} = ${cast(c)}`).join(', ');
  const where = [...step.where.map((c) => `${quoteIdent(c.name)} = ${cast(c)}`), ...step.expect.map((c) => `${quoteIdent(c.name)} IS NOT DISTINCT FROM ${cast(c)}`)].join(' AND ');
  return `UPDATE ${quoteTable(step.schema, step.table)} SET ${set} WHERE ${where}; -- ${step.why === 'set-null' ? 'undo ON DELETE SET NULL' : 'revert'} of ${step.entryId}`;
}

/** The whole plan in execution order, for --dry-run. */
export function planSql(plan: RestorePlan): string[] {
  const lines = ['BEGIN;', 'SET CONSTRAINTS ALL DEFERRED;'];
  for (const level of plan.levels) for (const step of level) lines.push(insertSql(step));
  for (const step of plan.updates) lines.push(updateSql(step));
  lines.push('COMMIT;');
  return lines;
}

/**
 * The statement that inserts many rows of one table and column list at once, for a table COPY
 * would write differently (row-level security, rules ON INSERT): every value travels
 * as text in one array per column and is cast back in SQL, so a batch is one round trip.
 */
export function batchInsertSql(sample: InsertStep): string {
  const columns = sample.columns.map((c) => quoteIdent(c.name)).join(', ');
  const casts = sample.columns.map((c, i) => `u.c${i}::${c.type}`).join(', ');
  const arrays = sample.columns.map((_, i) => `$${i + 1}::text[]`).join(', ');
  const aliases = sample.columns.map((_, i) => `c${i}`).join(', ');
  const overriding = sample.overridingSystemValue ? ' OVERRIDING SYSTEM VALUE' : '';
  return `INSERT INTO ${quoteTable(sample.schema, sample.table)} (${columns})${overriding} SELECT ${casts} FROM unnest(${arrays}) AS u(${aliases})`;
}

/** Steps that can share one COPY statement: same table, same columns and types (compared, not keyed: 100k key strings cost more than the COPY's own preparation; most steps share one column list). */
export function sameShape(a: InsertStep, b: InsertStep): boolean {
  if (a.table !== b.table || a.schema !== b.schema || a.overridingSystemValue !== b.overridingSystemValue) return false;
  const x = a.columns;
  const y = b.columns;
  if (x === y) return true;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i]!.name !== y[i]!.name || x[i]!.type !== y[i]!.type) return false;
  return true;
}
