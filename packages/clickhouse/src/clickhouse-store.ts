import type {
  AuditEntry,
  AuditStore,
  ChainHead,
  ColumnDef,
  EntryBatch,
  LogQuery,
  LogPositionKey,
  PreparedEntries,
  SourceIdentity,
  StoredChainLink,
} from '@walaudit/core';
import { WalauditError } from '@walaudit/core';
import { INSERTED_COLUMNS, toAuditEntry, toTsvBuffer, TsvRowWriter, type StoredEntryRow } from './audit-rows.js';
import { CHAIN_PAGE_ROWS, readChainPages } from './chain-reader.js';
import { logQuerySql } from './log-query.js';
import { applyMigrations } from './migrations.js';
import { openStoreClient, type ClickHouseStoreOptions, type StoreClient } from './store-client.js';
import { withStoreErrors } from './store-errors.js';

const TSV_UNESCAPES: Record<string, string> = { t: '\t', n: '\n', r: '\r', b: '\b', f: '\f', '0': '\0', '\\': '\\', "'": "'" };

/** TabSeparated output escapes backslash, tab, line breaks (and a few more): undone here. */
function unescapeTsv(field: string): string {
  return field.includes('\\') ? field.replace(/\\(.)/g, (_, c: string) => TSV_UNESCAPES[c] ?? c) : field;
}

/** Audit rows as TabSeparated bytes, ready for insertTsv. */
interface PreparedTsv extends PreparedEntries {
  readonly rows: Buffer;
}

/** Same rule as the config schema (store.database), so the name is safe inside backticks. */
const DATABASE_NAME = /^[A-Za-z0-9_]+$/;

/**
 * Opens the store: a ClickHouse server when `url` is set, else the embedded engine (chDB) under
 * `dataDir`. Call migrate() before the first write.
 */
export function createClickHouseStore(options: ClickHouseStoreOptions): ClickHouseStore {
  if (!DATABASE_NAME.test(options.database)) {
    throw new WalauditError('CONFIG_INVALID', `store.database "${options.database}" must be letters, digits and _`);
  }
  return new ClickHouseStore(openStoreClient(options), options.database);
}

export class ClickHouseStore implements AuditStore {
  private readonly auditLog: string;
  private closed = false;
  /** Size of the last batch encoded: the next one starts with a buffer that big. */
  private lastBatchBytes = 0;

  constructor(
    private readonly store: StoreClient,
    /** Validated by createClickHouseStore; quoted wherever it is used. */
    private readonly databaseName: string,
  ) {
    this.auditLog = this.table('audit_log');
  }

  /** Names the store in messages: a URL without credentials, or the embedded data directory. */
  get target(): string {
    return this.store.target;
  }

  async migrate(): Promise<void> {
    await this.call(() => applyMigrations(this.store.client, this.databaseName));
  }

  async insertEntries(entries: readonly AuditEntry[], bodies: readonly string[]): Promise<void> {
    const prepared: PreparedTsv = { entries: entries.length, rows: toTsvBuffer(entries, bodies) };
    await this.insertPrepared(prepared);
  }

  startBatch(): EntryBatch {
    const writer = new TsvRowWriter(this.lastBatchBytes);
    return {
      add: (entry, body) => writer.add(entry, body),
      finish: (): PreparedTsv => {
        const rows = writer.finish();
        this.lastBatchBytes = rows.length;
        return { entries: writer.entries, rows };
      },
    };
  }

  async insertPrepared(prepared: PreparedEntries): Promise<void> {
    const { rows } = prepared as PreparedTsv;
    if (!rows) throw new WalauditError('INTERNAL', 'insertPrepared got entries another store prepared');
    if (rows.length === 0) return;
    // Synchronous: resolved means the rows are in a part on disk (fsynced, see the DDL), which is
    // what lets the caller advance the replication slot.
    await this.call(() => this.store.insertTsv(this.databaseName, 'audit_log', INSERTED_COLUMNS, rows));
  }

  async chainHeads(): Promise<ChainHead[]> {
    const rows = await this.select<{ chain_partition: number | string; chain: number | string; id: string; lsn_text: string; seq: number | string; hash: string }>(
      `SELECT chain_partition, retention_days AS chain, id, toString(lsn) AS lsn_text, seq, hash FROM ${this.auditLog}
       ORDER BY lsn DESC, seq DESC LIMIT 1 BY chain_partition, retention_days`,
    );
    return rows.map((head) => {
      const partition = Number(head.chain_partition);
      const base = { chain: Number(head.chain), id: head.id, lsn: BigInt(head.lsn_text), seq: Number(head.seq), hash: head.hash };
      return partition === 0 ? base : { partition, ...base };
    });
  }

  async knownShapes(): Promise<Map<string, ColumnDef[]>> {
    // Action entries carry no columns (columns: []): they say nothing about the table's shape.
    // The newest position per table comes from the small columns; only those rows' events are
    // read (a key lookup), not every event in the log. LIMIT 1 BY drops an unmerged replay copy.
    const rows = await this.select<{ qualified: string; columns_json: string }>(
      `SELECT concat(schema_name, '.', table_name) AS qualified, JSONExtractRaw(event, 'columns') AS columns_json
       FROM ${this.auditLog}
       WHERE (lsn, seq) IN (
         SELECT max((lsn, seq)) FROM ${this.auditLog} WHERE op != 'action' GROUP BY schema_name, table_name
       )
       LIMIT 1 BY schema_name, table_name`,
    );
    return new Map(rows.map((row) => [row.qualified, JSON.parse(row.columns_json) as ColumnDef[]]));
  }

  async queryLog(query: LogQuery): Promise<AuditEntry[]> {
    const { query: sql, query_params } = logQuerySql(this.auditLog, query);
    if (query.limit === 0) return [];
    const rows = await this.select<StoredEntryRow>(sql, query_params);
    return rows.map(toAuditEntry);
  }

  readChain(from?: LogPositionKey): AsyncIterable<StoredChainLink> {
    return readChainPages(this.store.client, this.auditLog, this.store.target, CHAIN_PAGE_ROWS, from);
  }

  async countEntries(): Promise<number> {
    // FINAL: a replayed copy not merged yet is still one entry.
    const rows = await this.select<{ entries: number | string }>(`SELECT count() AS entries FROM ${this.auditLog} FINAL`);
    return Number(rows[0]?.entries ?? 0);
  }

  async sourceIdentity(): Promise<SourceIdentity | null> {
    const rows = await this.select<{ system_identifier: string; database: string }>(
      `SELECT system_identifier, database FROM ${this.table('source')} ORDER BY recorded_at LIMIT 1`,
    );
    const first = rows[0];
    return first ? { systemId: first.system_identifier, database: first.database } : null;
  }

  async recordSourceIdentity(identity: SourceIdentity): Promise<void> {
    await this.call(() =>
      this.store.client.command({
        query: `INSERT INTO ${this.table('source')} (system_identifier, database) VALUES ({systemId:String}, {database:String})`,
        query_params: { systemId: identity.systemId, database: identity.database },
      }),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await withStoreErrors(this.store.target, () => this.store.close());
  }

  /** `database`.name, for SQL beyond the AuditStore methods (status, analysts' checks, tests). */
  table(name: string): string {
    return `\`${this.databaseName}\`.${name}`;
  }

  /**
   * Runs a SELECT with `{name:Type}` parameters and returns its rows, errors mapped. Select 64-bit
   * integers with toString(): chDB prints them as JSON numbers (precision lost), a server as strings.
   */
  select<T>(query: string, query_params?: Record<string, unknown>): Promise<T[]> {
    return this.call(async () => {
      const result = await this.store.client.query({ query, query_params, format: 'JSONEachRow' });
      return result.json<T>();
    });
  }

  /**
   * Inserts a few rows as JSONEachRow into `database`.name (tables beside audit_log: alerts),
   * synchronously, errors mapped. For small inserts; audit entries take the TabSeparated path.
   */
  async insertRows(name: string, rows: readonly Record<string, unknown>[]): Promise<void> {
    if (rows.length === 0) return;
    await this.call(() => this.store.client.insert({ table: this.table(name), values: [...rows], format: 'JSONEachRow', clickhouse_settings: { async_insert: 0 } }));
  }

  /**
   * Inserts TabSeparated rows into another table of this database (cascade links), synchronously
   * like insertEntries. `table` is a bare identifier.
   */
  async insertTsv(table: string, columns: readonly [string, ...string[]], rows: string): Promise<void> {
    if (rows.length === 0) return;
    await this.call(() => this.store.insertTsv(this.databaseName, table, columns, Buffer.from(rows, 'utf8')));
  }

  /**
   * Like select, as TabSeparated rows of fields (unescaped): for big reads, about a quarter faster
   * than JSONEachRow, whose every row (an event is JSON inside JSON) the client parses once more.
   */
  selectFields(query: string, query_params?: Record<string, unknown>): Promise<string[][]> {
    return this.call(async () => {
      const result = await this.store.client.query({ query, query_params, format: 'TabSeparated' });
      const text = await result.text();
      const rows: string[][] = [];
      for (const line of text.split('\n')) {
        if (line === '') continue;
        rows.push(line.split('\t').map(unescapeTsv));
      }
      return rows;
    });
  }

  /**
   * Runs a SELECT of one column holding a JSON text per row (built in SQL with concat and
   * toJSONString) and returns the parsed rows. They come as TabSeparatedRaw, unescaped (a JSON text
   * holds no raw line break), and are parsed with one JSON.parse: for many small rows, about half
   * the cost of TabSeparated fields split, unescaped and parsed one by one.
   */
  selectJsonRows<T>(query: string, query_params?: Record<string, unknown>): Promise<T[]> {
    return this.call(async () => {
      const result = await this.store.client.query({ query, query_params, format: 'TabSeparatedRaw' });
      const text = await result.text();
      const body = text.endsWith('\n') ? text.slice(0, -1) : text;
      return body === '' ? [] : (JSON.parse(`[${body.replaceAll('\n', ',')}]`) as T[]);
    });
  }

  /**
   * Runs a SELECT and returns its output as ClickHouse wrote it, TabSeparatedRaw: one line per row,
   * nothing escaped. For rows the caller parses itself (a page of entries as JSON).
   */
  selectRawText(query: string, query_params?: Record<string, unknown>): Promise<string> {
    return this.call(async () => {
      const result = await this.store.client.query({ query, query_params, format: 'TabSeparatedRaw' });
      return result.text();
    });
  }

  /**
   * Runs a SELECT and returns its TabSeparatedRaw output as bytes, never decoded into a JS string:
   * for text that is only passed on (an export's JSON lines), decoding and encoding again cost
   * about as much as reading it.
   */
  selectRawBytes(query: string, query_params?: Record<string, unknown>): Promise<Buffer> {
    return this.call(async () => {
      const { stream } = await this.store.client.exec({ query: `${query}\nFORMAT TabSeparatedRaw`, query_params });
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    });
  }

  /** Runs a statement that returns no rows (ALTER, OPTIMIZE), errors mapped. */
  async command(query: string): Promise<void> {
    await this.call(() => this.store.client.command({ query }));
  }

  private call<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new WalauditError('INTERNAL', `the store (${this.store.target}) is closed`));
    return withStoreErrors(this.store.target, async () => {
      await this.store.ready;
      return work();
    });
  }
}
