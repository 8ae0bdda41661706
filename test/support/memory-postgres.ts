import { Writable } from 'node:stream';
import type pg from 'pg';
import { keyText, qualifiedName, type ForeignKey, type RowImage } from '@walaudit/core';
import { FOREIGN_KEYS_SQL } from '@walaudit/pg';
import { parseStatement, unquoteTable, type Literal } from './memory-postgres-sql.js';

export interface MemoryColumn {
  name: string;
  /** As format_type() spells it, and as the audit entries do. */
  type: string;
  notNull?: boolean;
  /** A default or identity: an insert may leave it out (the key's default gives `nextKey`). */
  hasDefault?: boolean;
  generated?: boolean;
  /** GENERATED ALWAYS AS IDENTITY: INSERT needs OVERRIDING SYSTEM VALUE (COPY does not). */
  identityAlways?: boolean;
}

export interface MemoryTable {
  schema?: string;
  table: string;
  columns: MemoryColumn[];
  primaryKey: string[];
  rows?: RowImage[];
  canInsert?: boolean;
  canUpdate?: boolean;
  /** Row-level security or a rule ON INSERT: COPY would write differently, so restores use INSERT. */
  insertOnly?: boolean;
  /** The next value the key's default gives (one integer key column). */
  nextKey?: number;
}

type Table = Required<MemoryTable>;

/** A Postgres error as node-postgres throws it: the SQLSTATE in `code`. */
export function pgError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * The part of Postgres a restore talks to, in memory: the catalog lookups it makes, the current
 * rows at given keys, COPY, INSERT, UPDATE, the audit context message, and one transaction
 * (BEGIN, ROLLBACK, COMMIT with the foreign keys checked at the end, as SET CONSTRAINTS ALL
 * DEFERRED does). Values are compared as their text. A statement it does not know is an error, so a
 * change of the restorer's SQL shows up here instead of passing unnoticed.
 */
export class MemoryPostgres {
  readonly tables = new Map<string, Table>();
  foreignKeys: ForeignKey[] = [];
  role = 'walaudit_restore';
  /** What was run, one line each: `COPY public.orders (2 rows)`, `INSERT public.notes`, `COMMIT`... */
  readonly statements: string[] = [];
  /** The audit context messages emitted (pg_logical_emit_message), content parsed. */
  readonly messages: Array<{ prefix: string; content: Record<string, unknown> }> = [];
  connections = 0;
  closed = 0;
  /** The application name of each connection opened. */
  readonly applicationNames: string[] = [];
  /** The next write whose line (see `statements`) starts with `prefix` throws `error` instead. */
  failWrite: { prefix: string; error: Error } | null = null;

  constructor(tables: readonly MemoryTable[] = [], foreignKeys: readonly ForeignKey[] = []) {
    for (const table of tables) this.addTable(table);
    this.foreignKeys = [...foreignKeys];
  }

  addTable(table: MemoryTable): void {
    const full: Table = { schema: 'public', rows: [], canInsert: true, canUpdate: true, insertOnly: false, nextKey: 1, ...table };
    full.rows = full.rows.map((row) => ({ ...row }));
    this.tables.set(qualifiedName(full.schema, full.table), full);
  }

  /** The rows of `schema.table` (or a table of public), sorted by their JSON text. */
  rowsOf(name: string): RowImage[] {
    const table = this.tables.get(name.includes('.') ? name : `public.${name}`);
    if (!table) throw new Error(`no table ${name}`);
    return [...table.rows].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  }

  /** What a RestoreDeps.connect gives: a new client on this database. */
  readonly connect = async (_url: string, applicationName: string): Promise<pg.Client> => {
    this.connections++;
    this.applicationNames.push(applicationName);
    return new MemoryPgClient(this) as unknown as pg.Client;
  };
}

interface Result {
  rows: Record<string, unknown>[];
  rowCount: number;
}

class MemoryPgClient {
  private snapshot: Map<string, { rows: RowImage[]; nextKey: number }> | null = null;
  private readOnly = false;
  private ended = false;

  constructor(private readonly db: MemoryPostgres) {}

  on(): this {
    return this;
  }

  async end(): Promise<void> {
    if (!this.ended) this.db.closed++;
    this.ended = true;
  }

  // The overloads node-postgres has: text and values, a config object, or a submittable (COPY).
  query(arg: string | { text: string; values?: unknown[]; submit?: unknown }, values?: unknown[]): Promise<Result> | Writable {
    if (this.ended) return Promise.reject(new Error('Client was closed and is not queryable'));
    if (typeof arg === 'object' && typeof arg.submit === 'function') return this.copy(arg.text);
    const text = typeof arg === 'string' ? arg : arg.text;
    const params = typeof arg === 'string' ? values ?? [] : arg.values ?? [];
    return Promise.resolve().then(() => this.run(text, params));
  }

  private run(text: string, params: unknown[]): Result {
    const { db } = this;
    const none = { rows: [], rowCount: 0 };
    switch (text) {
      case 'BEGIN':
      case 'BEGIN READ ONLY':
        this.snapshot = new Map([...db.tables].map(([name, table]) => [name, { rows: table.rows.map((row) => ({ ...row })), nextKey: table.nextKey }]));
        this.readOnly = text === 'BEGIN READ ONLY';
        db.statements.push(text);
        return none;
      case 'ROLLBACK':
        for (const [name, saved] of this.snapshot ?? []) Object.assign(db.tables.get(name)!, saved);
        this.snapshot = null;
        db.statements.push(text);
        return none;
      case 'COMMIT':
        db.statements.push(text);
        try {
          this.checkForeignKeys();
        } catch (error) {
          this.run('ROLLBACK', []);
          throw error;
        }
        this.snapshot = null;
        return none;
      case 'SET CONSTRAINTS ALL DEFERRED':
        db.statements.push(text);
        return none;
      case 'SELECT current_user AS role':
        return { rows: [{ role: db.role }], rowCount: 1 };
      case 'SELECT pg_logical_emit_message(true, $1, $2)':
        db.messages.push({ prefix: String(params[0]), content: JSON.parse(String(params[1])) as Record<string, unknown> });
        db.statements.push(`EMIT ${String(params[0])}`);
        return { rows: [{}], rowCount: 1 };
      case FOREIGN_KEYS_SQL:
        return { rows: db.foreignKeys.map(foreignKeyRow), rowCount: db.foreignKeys.length };
    }
    if (text.includes('has_table_privilege')) return this.tableFacts(params[0] as string[], params[1] as string[]);
    if (text.includes('row_security_active')) {
      const table = this.tableNamed(unquoteTable(String(params[0])));
      return { rows: [{ insert_only: table.insertOnly }], rowCount: 1 };
    }
    const statement = parseStatement(text);
    const table = this.tableNamed(statement.table);
    switch (statement.kind) {
      case 'select-by-key':
        return this.selectByKey(table, statement.columns, statement.keyColumns, JSON.parse(String(params[0])) as Array<string | string[]>);
      case 'insert-values': {
        this.writable(`INSERT ${qualifiedName(table.schema, table.table)}`);
        const row = this.insert(table, statement.columns, statement.values.map(valueOf), statement.overriding);
        return { rows: [Object.fromEntries(statement.returning.map((name) => [name, row[name] ?? null]))], rowCount: 1 };
      }
      case 'insert-arrays': {
        const arrays = params as (string | null)[][];
        this.writable(`INSERT ${qualifiedName(table.schema, table.table)} (${arrays[0]?.length ?? 0} rows)`);
        for (let i = 0; i < (arrays[0]?.length ?? 0); i++) this.insert(table, statement.columns, arrays.map((column) => column[i] ?? null), statement.overriding);
        return { rows: [], rowCount: arrays[0]?.length ?? 0 };
      }
      case 'update': {
        this.writable(`UPDATE ${qualifiedName(table.schema, table.table)}`);
        const matches = table.rows.filter((row) => statement.where.every(({ column, value, nullSafe }) => (nullSafe || value.value !== null) && row[column] === valueOf(value)));
        if (!table.canUpdate) throw pgError('42501', `permission denied for table ${table.table}`);
        for (const row of matches) for (const { column, value } of statement.set) row[column] = valueOf(value);
        return { rows: [], rowCount: matches.length };
      }
      case 'copy':
        throw new Error(`memory Postgres: COPY goes through a stream (pg-copy-streams), not as text: ${text}`);
    }
  }

  private copy(text: string): Writable {
    const statement = parseStatement(text);
    if (statement.kind !== 'copy') throw new Error(`memory Postgres: not a COPY: ${text}`);
    const table = this.tableNamed(statement.table);
    let data = '';
    return new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        data += chunk.toString('utf8');
        done();
      },
      final: (done) => {
        try {
          const lines = data.split('\n').filter((line) => line !== '');
          this.writable(`COPY ${qualifiedName(table.schema, table.table)} (${lines.length} rows)`);
          // COPY writes identity columns whatever they are: as INSERT with OVERRIDING SYSTEM VALUE.
          for (const line of lines) this.insert(table, statement.columns, line.split('\t').map(copyValue), true);
          done();
        } catch (error) {
          done(error as Error);
        }
      },
    });
  }

  private writable(statement: string): void {
    if (this.readOnly) throw pgError('25006', 'cannot execute INSERT in a read-only transaction');
    this.db.statements.push(statement);
    const failure = this.db.failWrite;
    if (failure && statement.startsWith(failure.prefix)) {
      this.db.failWrite = null;
      throw failure.error;
    }
  }

  private insert(table: Table, columns: readonly string[], values: readonly (string | null)[], overriding: boolean): RowImage {
    if (!table.canInsert) throw pgError('42501', `permission denied for table ${table.table}`);
    const given = new Map(columns.map((name, i) => [name, values[i] ?? null]));
    const row: RowImage = {};
    for (const column of table.columns) {
      if (given.has(column.name)) {
        if (column.generated) throw pgError('428C9', `cannot insert a non-DEFAULT value into column "${column.name}"`);
        if (column.identityAlways && !overriding) throw pgError('428C9', `cannot insert a non-DEFAULT value into column "${column.name}"`);
        row[column.name] = given.get(column.name)!;
      } else row[column.name] = column.hasDefault && table.primaryKey.includes(column.name) ? String(table.nextKey++) : null;
      if (column.notNull && row[column.name] === null) throw pgError('23502', `null value in column "${column.name}" of relation "${table.table}" violates not-null constraint`);
    }
    const key = keyText(row, table.primaryKey);
    if (key !== null && table.rows.some((existing) => keyText(existing, table.primaryKey) === key)) {
      throw pgError('23505', `duplicate key value violates unique constraint "${table.table}_pkey"`);
    }
    table.rows.push(row);
    return row;
  }

  private tableFacts(schemas: string[], tables: string[]): Result {
    const rows: Record<string, unknown>[] = [];
    const wanted = schemas.map((schema, i) => qualifiedName(schema, tables[i]!));
    for (const name of [...new Set(wanted)].sort()) {
      const table = this.db.tables.get(name);
      if (!table) continue;
      for (const column of table.columns) {
        rows.push({
          schema: table.schema, table: table.table, name: column.name, type: column.type, not_null: column.notNull ?? false,
          has_default: column.hasDefault ?? false, generated: column.generated ?? false, identity_always: column.identityAlways ?? false,
          primary_key: table.primaryKey.includes(column.name), can_insert: table.canInsert, can_update: table.canUpdate,
        });
      }
    }
    return { rows, rowCount: rows.length };
  }

  private selectByKey(table: Table, columns: readonly string[], keyColumns: readonly string[], keys: Array<string | string[]>): Result {
    const wanted = new Set(keys.map((key) => (Array.isArray(key) ? key.join('\u0000') : key)));
    const rows = table.rows
      .filter((row) => {
        const key = keyText(row, keyColumns);
        return key !== null && wanted.has(key);
      })
      .map((row) => Object.fromEntries(columns.map((name) => [name, row[name] ?? null])));
    return { rows, rowCount: rows.length };
  }

  private tableNamed(name: string): Table {
    const table = this.db.tables.get(name);
    if (!table) throw pgError('42P01', `relation ${name} does not exist`);
    return table;
  }

  private checkForeignKeys(): void {
    for (const fk of this.db.foreignKeys) {
      const child = this.db.tables.get(qualifiedName(fk.schema, fk.table));
      const parent = this.db.tables.get(qualifiedName(fk.refSchema, fk.refTable));
      if (!child || !parent) continue;
      const present = new Set(parent.rows.map((row) => keyText(row, fk.refColumns)));
      for (const row of child.rows) {
        const key = keyText(row, fk.columns);
        if (key !== null && !present.has(key)) {
          throw pgError('23503', `insert or update on table "${fk.table}" violates foreign key constraint "${fk.name}"`);
        }
      }
    }
  }
}

const valueOf = (literal: Literal): string | null => literal.value;

/** One field of COPY's text format. */
function copyValue(field: string): string | null {
  if (field === '\\N') return null;
  return field.replace(/\\(.)/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? c);
}

const ACTION_CODES: Record<ForeignKey['onDelete'], string> = { 'no-action': 'a', restrict: 'r', cascade: 'c', 'set-null': 'n', 'set-default': 'd' };

function foreignKeyRow(fk: ForeignKey): Record<string, unknown> {
  return { name: fk.name, schema: fk.schema, table: fk.table, ref_schema: fk.refSchema, ref_table: fk.refTable, on_delete: ACTION_CODES[fk.onDelete], columns: fk.columns, ref_columns: fk.refColumns };
}
