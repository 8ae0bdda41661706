/**
 * A foreign key as the catalog declares it (pg_constraint, contype 'f'). Cascade linking and
 * restore planning read only this shape; packages/pg loads it.
 */
export type ForeignKeyAction = 'cascade' | 'set-null' | 'set-default' | 'restrict' | 'no-action';

export interface ForeignKey {
  /** Constraint name (unique per table). */
  name: string;
  /** The referencing (child) table. */
  schema: string;
  table: string;
  /** Referencing columns, in the constraint's order. */
  columns: string[];
  /** The referenced (parent) table. */
  refSchema: string;
  refTable: string;
  /** Referenced columns, paired with `columns` by position. */
  refColumns: string[];
  onDelete: ForeignKeyAction;
}

/** `schema.table`, the key every map of tables uses. */
export function qualifiedName(schema: string, table: string): string {
  return `${schema}.${table}`;
}

/**
 * qualifiedName for rows that come in runs of one table (a cascade's levels, a transaction's
 * statements): the name is built once per run, so 100k rows do not make 100k strings.
 */
export function runNames(): (schema: string, table: string) => string {
  let lastSchema: string | undefined;
  let lastTable: string | undefined;
  let last = '';
  return (schema, table) => {
    if (table !== lastTable || schema !== lastSchema) {
      lastSchema = schema;
      lastTable = table;
      last = qualifiedName(schema, table);
    }
    return last;
  };
}

/** Deletes that Postgres itself causes in the same transaction: the keys cascade linking follows. */
export function isCascading(fk: ForeignKey): boolean {
  return fk.onDelete === 'cascade' || fk.onDelete === 'set-null';
}

/**
 * The text of a composite key, from a row image: the values joined by a separator that cannot occur
 * in Postgres text output (U+0000 is rejected in text values). Null when any part is NULL: a row
 * with a NULL in its foreign key points at nothing (MATCH SIMPLE).
 */
export function keyText(row: Record<string, string | null | undefined>, columns: readonly string[]): string | null {
  if (columns.length === 1) {
    const value = row[columns[0]!];
    return value === null || value === undefined ? null : value;
  }
  let text = '';
  for (let i = 0; i < columns.length; i++) {
    const value = row[columns[i]!];
    if (value === null || value === undefined) return null;
    text += i === 0 ? value : `\u0000${value}`;
  }
  return text;
}
