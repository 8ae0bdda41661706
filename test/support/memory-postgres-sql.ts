import { qualifiedName } from '@walaudit/core';

/** `'text'::type` or NULL, as castLiteral writes them; the type is kept as written. */
export interface Literal {
  value: string | null;
  type: string | null;
}

/** The statements a restore writes (restore-sql.ts, restore-facts.ts), parsed. `table` is `schema.table`. */
export type Statement =
  | { kind: 'copy'; table: string; columns: string[] }
  | { kind: 'select-by-key'; table: string; columns: string[]; keyColumns: string[] }
  | { kind: 'insert-values'; table: string; columns: string[]; overriding: boolean; values: Literal[]; returning: string[] }
  | { kind: 'insert-arrays'; table: string; columns: string[]; overriding: boolean }
  | { kind: 'update'; table: string; set: { column: string; value: Literal }[]; where: { column: string; value: Literal; nullSafe: boolean }[] };

/**
 * Reads the few SQL shapes the restorer sends, strictly: anything else throws, naming the text, so
 * the in-memory Postgres never guesses what a statement meant.
 */
export function parseStatement(text: string): Statement {
  const sql = new Cursor(text);
  if (sql.take('COPY ')) {
    const table = sql.table();
    sql.expect(' ');
    const columns = sql.identList();
    sql.expect(' FROM STDIN');
    sql.end();
    return { kind: 'copy', table, columns };
  }
  if (sql.take('SELECT ')) {
    const columns: string[] = [];
    do {
      sql.expect('t.');
      columns.push(sql.ident());
    } while (sql.take(', '));
    sql.expect(' FROM ');
    const table = sql.table();
    sql.expect(' t JOIN ');
    const single = sql.take('json_array_elements_text($1::json)');
    if (!single) sql.expect('json_array_elements($1::json)');
    sql.expect(' AS u(k) ON ');
    const keyColumns: string[] = [];
    do {
      sql.expect('t.');
      keyColumns.push(sql.ident());
      sql.expect(' = ');
      sql.skipUntil(' AND ');
    } while (sql.take(' AND '));
    return { kind: 'select-by-key', table, columns, keyColumns };
  }
  if (sql.take('INSERT INTO ')) {
    const table = sql.table();
    sql.expect(' ');
    const columns = sql.identList();
    const overriding = sql.take(' OVERRIDING SYSTEM VALUE');
    if (sql.take(' SELECT ')) {
      sql.skipUntil(null);
      return { kind: 'insert-arrays', table, columns, overriding };
    }
    sql.expect(' VALUES (');
    const values: Literal[] = [];
    do values.push(sql.literal());
    while (sql.take(', '));
    sql.expect(')');
    const returning: string[] = [];
    if (sql.take(' RETURNING ')) {
      do returning.push(sql.ident());
      while (sql.take(', '));
      sql.end();
    } else sql.expect(';');
    return { kind: 'insert-values', table, columns, overriding, values, returning };
  }
  if (sql.take('UPDATE ')) {
    const table = sql.table();
    sql.expect(' SET ');
    const set: { column: string; value: Literal }[] = [];
    do {
      const column = sql.ident();
      sql.expect(' = ');
      set.push({ column, value: sql.literal() });
    } while (sql.take(', '));
    sql.expect(' WHERE ');
    const where: { column: string; value: Literal; nullSafe: boolean }[] = [];
    do {
      const column = sql.ident();
      const nullSafe = sql.take(' IS NOT DISTINCT FROM ');
      if (!nullSafe) sql.expect(' = ');
      where.push({ column, value: sql.literal(), nullSafe });
    } while (sql.take(' AND '));
    sql.expect(';');
    return { kind: 'update', table, set, where };
  }
  throw new Error(`memory Postgres does not know this statement: ${text}`);
}

/** `"schema"."table"` as quoteTable writes it, as `schema.table`. */
export function unquoteTable(quoted: string): string {
  const sql = new Cursor(quoted);
  const table = sql.table();
  sql.end();
  return table;
}

class Cursor {
  private at = 0;

  constructor(private readonly text: string) {}

  take(token: string): boolean {
    if (!this.text.startsWith(token, this.at)) return false;
    this.at += token.length;
    return true;
  }

  expect(token: string): void {
    if (!this.take(token)) this.fail(`expected ${JSON.stringify(token)}`);
  }

  end(): void {
    if (this.at !== this.text.length) this.fail('expected the end');
  }

  /** Moves to the next `stop` (or the end): a part of the statement the fake does not need. */
  skipUntil(stop: string | null): void {
    const next = stop === null ? -1 : this.text.indexOf(stop, this.at);
    this.at = next < 0 ? this.text.length : next;
  }

  ident(): string {
    if (this.text[this.at] !== '"') this.fail('expected a quoted identifier');
    let name = '';
    for (let i = this.at + 1; i < this.text.length; i++) {
      if (this.text[i] !== '"') {
        name += this.text[i];
        continue;
      }
      if (this.text[i + 1] === '"') {
        name += '"';
        i++;
        continue;
      }
      this.at = i + 1;
      return name;
    }
    return this.fail('unterminated identifier');
  }

  table(): string {
    const schema = this.ident();
    this.expect('.');
    return qualifiedName(schema, this.ident());
  }

  identList(): string[] {
    this.expect('(');
    const names: string[] = [];
    do names.push(this.ident());
    while (this.take(', '));
    this.expect(')');
    return names;
  }

  literal(): Literal {
    if (this.take('NULL')) return { value: null, type: null };
    if (this.text[this.at] !== "'") this.fail('expected a literal');
    let value = '';
    let i = this.at + 1;
    for (; i < this.text.length; i++) {
      if (this.text[i] !== "'") value += this.text[i];
      else if (this.text[i + 1] === "'") {
        value += "'";
        i++;
      } else break;
    }
    this.at = i + 1;
    this.expect('::');
    // A type may hold parentheses, commas and spaces (numeric(10,2), double precision).
    const start = this.at;
    let depth = 0;
    for (; this.at < this.text.length; this.at++) {
      const c = this.text[this.at]!;
      if (c === '(') depth++;
      else if (c === ')' && depth > 0) depth--;
      else if (depth === 0 && (c === ',' || c === ')' || c === ';' || this.text.startsWith(' WHERE ', this.at) || this.text.startsWith(' AND ', this.at))) break;
    }
    return { value, type: this.text.slice(start, this.at) };
  }

  private fail(why: string): never {
    throw new Error(`memory Postgres cannot read this statement (${why} at ${this.at}): ${this.text}`);
  }
}
