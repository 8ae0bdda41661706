import { WalauditError, type AuditEntry, type RowImage } from '@walaudit/core';
import type { ClickHouseStore } from './clickhouse-store.js';

/** Entries per page of a cascade read: small enough that decoding one overlaps reading the next. */
export const CASCADE_PAGE_ROWS = 20_000;

/** What every entry of one table and column list shares (its shape), sent once. */
interface Shape {
  schema: string;
  table: string;
  keyKind: AuditEntry['keyKind'];
  columns: AuditEntry['columns'];
}

type ShapeKey = string | number;

/** A page row: seq, shape key, pk, before, and on a table's first row its shape's fields. */
type PageRow = [number, ShapeKey, RowImage | null, RowImage | null, ...([] | [string, string, string, AuditEntry['columns']])];

/**
 * A JSONExtract into a tuple parses each event once (a JSONExtract per field parsed it once per
 * field). Its String members hold an object's JSON text, and '' for a JSON null.
 */
const ALL_FIELDS = `JSONExtract(event, 'Tuple(keyKind String, pk String, columns String, before String)')`;
/** Rows of a known shape need only these; `if` evaluates the shape's extraction for first rows only. */
const ROW_FIELDS = `JSONExtract(event, 'Tuple(pk String, before String)')`;
const SHAPE_ONLY = `JSONExtract(event, 'Tuple(keyKind String, columns String)')`;

/** The fields of a shape as JSON array elements (JSON texts of strings, the column list as it is). */
function shapeFields(tuple: string): string {
  return `toJSONString(schema_name), ',', toJSONString(table_name), ',', toJSONString(${tuple}.keyKind), ',', if(${tuple}.columns = '', '[]', ${tuple}.columns)`;
}

/**
 * How rows name their shape. A transaction without a schema change (a schema entry) has one shape
 * per table, so a row names its table by two small indexes and its event's column list is not
 * extracted at all (that was about a third of a page's time). Otherwise a row carries a hash of
 * table, key kind and column list.
 */
interface ShapeMode {
  /** The WITH clause of a page read. */
  extract: string;
  /** A JSON text naming the row's shape. */
  key: string;
  /** The shape's fields, for a table's first row. */
  fields: string;
}

function shapeMode(schemaChanges: boolean, tableCount: number): ShapeMode {
  if (schemaChanges) return { extract: `WITH ${ALL_FIELDS} AS e`, key: `concat('"', toString(cityHash64(schema_name, table_name, e.keyKind, e.columns)), '"')`, fields: shapeFields('e') };
  return {
    extract: `WITH ${ROW_FIELDS} AS e`,
    key: `toString(indexOf({schemas:Array(String)}, schema_name) * ${tableCount + 1} + indexOf({tables:Array(String)}, table_name))`,
    fields: shapeFields(SHAPE_ONLY),
  };
}

/**
 * Reads the deletes of a root's cascade (kind cascade in cascade_links) from the audit log, in
 * log order, in pages of seq ranges: the next page is being read by ClickHouse (its own threads,
 * or the server) while this one is decoded here and handed to `onPage`, so a restore can check the
 * rows of one page against Postgres while the next is read.
 *
 * A cascade commits in one transaction: the root's LSN bounds each read to a range of the sorting
 * key, and the links table gives the positions without its rows being sent here. Only what a
 * restore plans with is extracted, and ClickHouse writes each row as one JSON array, so a page is
 * one JSON.parse here (a parse per row image cost about as much again as the parse itself, and
 * TabSeparated fields each a string to split and unescape). The ids are the root's LSN part with
 * each seq; the transaction fields are the root's. A shape (table, key kind, column list: half of
 * a row's bytes) comes once, on its table's first row; the other rows name it (see ShapeMode). A
 * row whose shape differs from every one sent (a table altered between two statements of the
 * transaction) has it read before its page is handed on.
 */
export async function readCascadeDeletes(
  store: ClickHouseStore,
  root: AuditEntry,
  lsn: bigint,
  onPage: (page: AuditEntry[]) => void,
  pageRows = CASCADE_PAGE_ROWS,
): Promise<AuditEntry[]> {
  const links = store.table('cascade_links');
  const auditLog = store.table('audit_log');
  const [span] = await store.select<{ schemas: string[]; tables: string[]; firsts: number[]; low: number; high: number; total: number; schema_changes: number }>(
    `SELECT groupArray(schema_name) AS schemas, groupArray(table_name) AS tables, groupArray(first) AS firsts,
            min(first) AS low, max(last) AS high, sum(rows) AS total,
            (SELECT count() FROM ${auditLog} WHERE lsn = ${lsn.toString()} AND op = 'schema') AS schema_changes
       FROM (SELECT schema_name, table_name, min(seq) AS first, max(seq) AS last, uniqExact(seq) AS rows FROM ${links}
              WHERE root_entry_id = {root:String} AND kind = 'cascade' GROUP BY schema_name, table_name)`,
    { root: root.id },
  );
  const total = Number(span?.total ?? 0);
  if (!span || total === 0) return [];
  const low = Number(span.low);
  const high = Number(span.high);
  const schemas = [...new Set(span.schemas)];
  const tables = [...new Set(span.tables)];
  const mode = shapeMode(Number(span.schema_changes) > 0, tables.length);
  // Seqs of one cascade are (nearly) contiguous: equal seq ranges are pages of about equal rows.
  const pages = Math.max(1, Math.ceil(total / pageRows));
  const step = Math.ceil((high - low + 1) / pages);
  // When the cascade holds every seq of its range (its transaction deleted nothing else in
  // between: the usual case), the range alone selects its entries; otherwise the links say which
  // (each page reading all of the root's links again: about a fifth of a page's time).
  const inCascade = total === high - low + 1 ? '' : `AND seq IN (SELECT seq FROM ${links} WHERE root_entry_id = {root:String} AND kind = 'cascade' AND seq BETWEEN {from:UInt32} AND {to:UInt32})`;
  const params = { root: root.id, firsts: span.firsts, schemas, tables };
  const read = (from: number) =>
    store.selectJsonRows<PageRow>(
      `${mode.extract}
       SELECT concat('[', toString(seq), ',', ${mode.key}, ',', if(e.pk = '', 'null', e.pk), ',', if(e.before = '', 'null', e.before),
                     if(seq IN {firsts:Array(UInt32)}, concat(',', ${mode.fields}), ''), ']')
         FROM ${auditLog}
        WHERE lsn = ${lsn.toString()} AND seq BETWEEN {from:UInt32} AND {to:UInt32} ${inCascade}
        ORDER BY seq LIMIT 1 BY seq`,
      { ...params, from, to: Math.min(high, from + step - 1) },
    );
  // Shapes a page does not hold (normally none): the same key as the page's, so they agree.
  const readShapes = (seqs: number[]) =>
    store.selectJsonRows<[ShapeKey, string, string, string, AuditEntry['columns']]>(
      `WITH ${ALL_FIELDS} AS e SELECT concat('[', ${mode.key}, ',', ${shapeFields('e')}, ']') FROM ${auditLog}
        WHERE lsn = ${lsn.toString()} AND seq IN {seqs:Array(UInt32)} LIMIT 1 BY seq`,
      { ...params, seqs },
    );
  const decoder = new PageDecoder(root, readShapes);
  const deletes: AuditEntry[] = [];
  // One read ahead: ClickHouse works on page n + 1 while page n is decoded and handed on.
  let next: Promise<PageRow[]> | null = read(low);
  for (let from = low; next; from += step) {
    const rows = await next;
    next = from + step <= high ? read(from + step) : null;
    // A failed read ahead is reported by its own await; until then it must not count as unhandled.
    next?.catch(() => undefined);
    const page = await decoder.decode(rows);
    for (const entry of page) deletes.push(entry);
    if (page.length > 0) onPage(page);
  }
  return deletes;
}

/** Nobody edits these: every entry of a read shares one (an object each was 100k more to collect). */
const NO_ACTOR = Object.freeze({}) as AuditEntry['actor'];
const NO_CHANGES = Object.freeze([]) as unknown as string[];

/** Turns page rows into entries, with the shapes seen so far. */
class PageDecoder {
  private readonly shapes = new Map<ShapeKey, Shape>();
  /** One string per schema and table name: later comparisons of names are of one object. */
  private readonly names = new Map<string, string>();
  private readonly idPrefix: string;

  constructor(
    private readonly root: AuditEntry,
    private readonly readShapes: (seqs: number[]) => Promise<[ShapeKey, string, string, string, AuditEntry['columns']][]>,
  ) {
    this.idPrefix = root.id.slice(0, root.id.indexOf('-') + 1);
  }

  async decode(rows: PageRow[]): Promise<AuditEntry[]> {
    for (const row of rows) if (row.length > 4) this.learn(row[1], row[4]!, row[5]!, row[6]!, row[7]!);
    const unknown = new Map<ShapeKey, number>();
    for (const [seq, key] of rows) if (!this.shapes.has(key) && !unknown.has(key)) unknown.set(key, seq);
    if (unknown.size > 0) for (const [key, schema, table, keyKind, columns] of await this.readShapes([...unknown.values()])) this.learn(key, schema, table, keyKind, columns);
    const { idPrefix } = this;
    const { tx } = this.root;
    return rows.map(([seq, key, pk, before]): AuditEntry => {
      const shape = this.shapes.get(key);
      if (!shape) throw new WalauditError('STORE_QUERY_FAILED', `entry ${idPrefix}${seq}: its column list could not be read back from the audit log`);
      return {
        id: `${idPrefix}${seq}`, op: 'delete', schema: shape.schema, table: shape.table, keyKind: shape.keyKind, pk, columns: shape.columns, before, after: null,
        changed: NO_CHANGES, tx: { ...tx, seq }, actor: NO_ACTOR, prevHash: '', hash: '', retentionDays: 0, critical: false,
      };
    });
  }

  private learn(key: ShapeKey, schema: string, table: string, keyKind: string, columns: AuditEntry['columns']): void {
    if (this.shapes.has(key)) return;
    this.shapes.set(key, { schema: this.name(schema), table: this.name(table), keyKind: keyKind === 'full-row' ? 'full-row' : 'primary-key', columns });
  }

  private name(text: string): string {
    const known = this.names.get(text);
    if (known !== undefined) return known;
    this.names.set(text, text);
    return text;
  }
}
