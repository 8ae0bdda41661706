/** Quoting for the identifiers and literals walaudit puts into DDL it builds itself. */

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `"schema"."table"`. */
export function quoteTable(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}

/** A standard-conforming string literal (the default since Postgres 9.1). */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** An identifier for people and for SQL they copy: unquoted unless it needs quotes. */
export function readableIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : quoteIdent(name);
}

/** `schema.table` for people: unquoted unless quoting is needed to read it back. */
export function displayTable(schema: string, table: string): string {
  return `${readableIdent(schema)}.${readableIdent(table)}`;
}
