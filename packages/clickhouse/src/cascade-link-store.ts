import { formatLsn, parseLsn, WalauditError, type AuditEntry, type CascadeLink, type CascadeLinkStore, type EntryReader, type Lsn } from '@walaudit/core';
import { toAuditEntry, tsvField, type StoredEntryRow } from './audit-rows.js';
import { readCascadeDeletes } from './cascade-read.js';
import type { ClickHouseStore } from './clickhouse-store.js';

const LINK_COLUMNS = [
  'entry_id', 'kind', 'schema_name', 'table_name', 'entry_key', 'xid', 'lsn', 'seq', 'constraint_name',
  'parent_entry_id', 'parent_schema', 'parent_table', 'parent_key', 'root_entry_id', 'root_schema', 'root_table', 'depth',
] as const;

interface LinkRow {
  entry_id: string;
  kind: string;
  schema_name: string;
  table_name: string;
  entry_key: string;
  xid_text: string;
  lsn_text: string;
  seq: number | string;
  constraint_name: string;
  parent_entry_id: string;
  parent_schema: string;
  parent_table: string;
  parent_key: string;
  root_entry_id: string;
  root_schema: string;
  root_table: string;
  depth: number | string;
}

const SELECT_LINK = `SELECT entry_id, kind, schema_name, table_name, entry_key, toString(xid) AS xid_text, toString(lsn) AS lsn_text, seq, constraint_name,
  parent_entry_id, parent_schema, parent_table, parent_key, root_entry_id, root_schema, root_table, depth`;

/** From this many ids in one transaction, entriesByIds reads the transaction whole. */
const WHOLE_TRANSACTION_FROM = 200;

/** Rows per page when the correlator re-reads entries after a restart. */
const PAGE_ROWS = 10_000;

/** Cascade links and the entry lookups of the correlator and the restorer, on the same ClickHouse. */
export class ClickHouseCascadeLinks implements CascadeLinkStore, EntryReader {
  private readonly links: string;
  private readonly auditLog: string;

  constructor(
    private readonly store: ClickHouseStore,
    /** Entries per page of a root's cascade (see readCascadeDeletes); tests make it small. */
    private readonly options: { cascadePageRows?: number } = {},
  ) {
    this.links = store.table('cascade_links');
    this.auditLog = store.table('audit_log');
  }

  async insertLinks(links: readonly CascadeLink[]): Promise<void> {
    if (links.length === 0) return;
    let rows = '';
    let lsnText = '';
    let lsnDecimal = '';
    // One string per batch, fields appended directly: a million links are a million rows here.
    // Ids, xid, seq and depth never hold a tab, newline or backslash; names and keys may.
    for (const link of links) {
      if (link.lsn !== lsnText) {
        lsnText = link.lsn;
        lsnDecimal = parseLsn(lsnText).toString();
      }
      rows += `${link.entryId}\t${link.kind}\t${tsvField(link.schema)}\t${tsvField(link.table)}\t${tsvField(JSON.stringify(link.key))}\t${link.xid}\t${lsnDecimal}\t${link.seq}\t${tsvField(link.constraint)}\t`
        + `${link.parentEntryId}\t${tsvField(link.parentSchema)}\t${tsvField(link.parentTable)}\t${tsvField(JSON.stringify(link.parentKey))}\t${link.rootEntryId}\t${tsvField(link.rootSchema)}\t${tsvField(link.rootTable)}\t${link.depth}\n`;
    }
    await this.store.insertTsv('cascade_links', LINK_COLUMNS, rows);
  }

  async linkOf(entryId: string): Promise<CascadeLink | null> {
    const rows = await this.store.select<LinkRow>(`${SELECT_LINK} FROM ${this.links} WHERE entry_id = {id:String} LIMIT 1`, { id: entryId });
    return rows[0] ? toLink(rows[0]) : null;
  }

  async parentsOf(entryIds: readonly string[]): Promise<Map<string, string>> {
    if (entryIds.length === 0) return new Map();
    // Not the sorting key (the links are ordered by root): a scan of two columns of a table that
    // holds only caused rows, once per page of an export.
    const rows = await this.store.select<{ entry_id: string; parent_entry_id: string }>(
      `SELECT entry_id, any(parent_entry_id) AS parent_entry_id FROM ${this.links} WHERE entry_id IN {ids:Array(String)} GROUP BY entry_id`,
      { ids: entryIds },
    );
    return new Map(rows.map((row) => [row.entry_id, row.parent_entry_id]));
  }

  async rootCascade(root: AuditEntry, onDeletes: (page: AuditEntry[]) => void = () => undefined): Promise<{ deletes: AuditEntry[]; setNull: CascadeLink[] } | null> {
    if (await this.linkOf(root.id)) return null;
    const setNull = await this.store.select<LinkRow>(
      `${SELECT_LINK} FROM ${this.links} WHERE root_entry_id = {root:String} AND kind = 'set-null' ORDER BY lsn, seq LIMIT 1 BY entry_id`,
      { root: root.id },
    );
    const deletes = await readCascadeDeletes(this.store, root, positionOfId(root.id), onDeletes, this.options.cascadePageRows);
    return { deletes, setNull: setNull.map(toLink) };
  }

  async linksOfTransaction(xid: number): Promise<CascadeLink[]> {
    const rows = await this.store.select<LinkRow>(
      `${SELECT_LINK} FROM ${this.links} WHERE xid = {xid:UInt64} ORDER BY lsn, seq LIMIT 1 BY entry_id`,
      { xid: String(xid) },
    );
    return rows.map(toLink);
  }

  async linksCausedBy(entryId: string): Promise<CascadeLink[]> {
    const own = await this.linkOf(entryId);
    const root = own ? own.rootEntryId : entryId;
    const rows = await this.store.select<LinkRow>(
      `${SELECT_LINK} FROM ${this.links} WHERE root_entry_id = {root:String} ORDER BY depth, lsn, seq LIMIT 1 BY entry_id`,
      { root },
    );
    const all = rows.map(toLink);
    if (!own) return all;
    // An entry in the middle of a chain: keep its descendants only (parents come first by depth).
    const under = new Set([entryId]);
    return all.filter((link) => under.has(link.parentEntryId) && (under.add(link.entryId), true));
  }

  /**
   * The links of the entries `entryId`'s deletion caused directly, the first `limit` in log
   * order, and how many there are. Read within the root's links (the table's sorting key).
   */
  async childrenOf(entryId: string, limit: number): Promise<{ links: CascadeLink[]; total: number }> {
    const own = await this.linkOf(entryId);
    const params = { root: own ? own.rootEntryId : entryId, parent: entryId };
    const where = `WHERE root_entry_id = {root:String} AND parent_entry_id = {parent:String}`;
    const [rows, counted] = await Promise.all([
      this.store.select<LinkRow>(`${SELECT_LINK} FROM ${this.links} ${where} ORDER BY lsn, seq LIMIT 1 BY entry_id LIMIT ${Math.trunc(limit)}`, params),
      this.store.select<{ total: string }>(`SELECT toString(uniqExact(entry_id)) AS total FROM ${this.links} ${where}`, params),
    ]);
    return { links: rows.map(toLink), total: Number(counted[0]?.total ?? 0) };
  }

  async entriesByIds(ids: readonly string[]): Promise<AuditEntry[]> {
    // The ids name (lsn, seq), the sorting key. Grouped by transaction: a big group (a cascade) is
    // one read of its transaction's range; small ones are looked up by id. (Pages of ids each
    // filtering the same transaction read it once per page: 10x slower on 100k rows.)
    const byLsn = new Map<bigint, string[]>();
    for (const id of ids) {
      const lsn = positionOfId(id);
      const group = byLsn.get(lsn);
      if (group) group.push(id);
      else byLsn.set(lsn, [id]);
    }
    const found: AuditEntry[] = [];
    const small: string[] = [];
    for (const [lsn, group] of byLsn) {
      if (group.length < WHOLE_TRANSACTION_FROM) {
        small.push(...group);
        continue;
      }
      const rows = await this.store.select<StoredEntryRow>(
        `SELECT id, event, prev_hash, hash, retention_days, critical FROM ${this.auditLog}
          WHERE lsn = ${lsn.toString()} AND seq IN {seqs:Array(UInt32)} ORDER BY seq LIMIT 1 BY seq`,
        { seqs: group.map((id) => Number(id.slice(id.indexOf('-') + 1))) },
      );
      found.push(...rows.map(toAuditEntry));
    }
    for (let i = 0; i < small.length; i += PAGE_ROWS) {
      const page = small.slice(i, i + PAGE_ROWS);
      // LSNs are inlined (decimal from BigInt, so safe): chDB does not parse an Array(UInt64) parameter.
      const lsns = [...new Set(page.map((id) => positionOfId(id).toString()))];
      const rows = await this.store.select<StoredEntryRow>(
        `SELECT id, event, prev_hash, hash, retention_days, critical FROM ${this.auditLog}
          WHERE lsn IN (${lsns.join(', ')}) AND id IN {ids:Array(String)} ORDER BY lsn, seq LIMIT 1 BY lsn, seq`,
        { ids: page },
      );
      found.push(...rows.map(toAuditEntry));
    }
    return found;
  }

  async rowChangesOfTransaction(xid: number, options: { updates?: boolean } = {}): Promise<AuditEntry[]> {
    const rows = await this.store.select<StoredEntryRow>(
      `SELECT id, event, prev_hash, hash, retention_days, critical FROM ${this.auditLog}
        WHERE xid = {xid:UInt64} AND op IN {ops:Array(String)} ORDER BY lsn, seq LIMIT 1 BY lsn, seq`,
      { xid: String(xid), ops: options.updates ? ['delete', 'update'] : ['delete'] },
    );
    return rows.map(toAuditEntry);
  }

  async *rowChangesSince(fromLsn: Lsn, tables: readonly string[], partition?: number): AsyncIterable<AuditEntry[]> {
    let after: { lsn: string; seq: number } | null = null;
    for (;;) {
      const rows: (StoredEntryRow & { lsn_text: string; seq: number | string })[] = await this.store.select(
        `SELECT id, event, prev_hash, hash, retention_days, critical, toString(lsn) AS lsn_text, seq FROM ${this.auditLog}
          WHERE lsn >= {from:UInt64} AND op IN ('delete', 'update') AND concat(schema_name, '.', table_name) IN {tables:Array(String)}
          ${partition === undefined ? '' : 'AND chain_partition = {partition:UInt32}'}
          ${after ? 'AND (lsn, seq) > ({lsn:UInt64}, {seq:UInt32})' : ''}
          ORDER BY lsn, seq LIMIT 1 BY lsn, seq LIMIT ${PAGE_ROWS}`,
        { from: fromLsn.toString(), tables: [...tables], ...(partition === undefined ? {} : { partition }), ...(after ? { lsn: after.lsn, seq: after.seq } : {}) },
      );
      if (rows.length > 0) yield rows.map(toAuditEntry);
      if (rows.length < PAGE_ROWS) return;
      const last = rows.at(-1)!;
      after = { lsn: last.lsn_text, seq: Number(last.seq) };
    }
  }
}

function positionOfId(id: string): bigint {
  const hex = id.slice(0, id.indexOf('-'));
  if (!/^[0-9A-Fa-f]{1,16}$/.test(hex)) throw new WalauditError('CONFIG_INVALID', `"${id}" is not an entry id (expected <16 hex digits>-<seq>, as \`walaudit log\` prints)`);
  return BigInt(`0x${hex}`);
}

function toLink(row: LinkRow): CascadeLink {
  return {
    entryId: row.entry_id,
    kind: row.kind === 'set-null' ? 'set-null' : 'cascade',
    schema: row.schema_name,
    table: row.table_name,
    key: JSON.parse(row.entry_key) as CascadeLink['key'],
    xid: Number(row.xid_text),
    lsn: formatLsn(BigInt(row.lsn_text)),
    seq: Number(row.seq),
    constraint: row.constraint_name,
    parentEntryId: row.parent_entry_id,
    parentSchema: row.parent_schema,
    parentTable: row.parent_table,
    parentKey: JSON.parse(row.parent_key) as CascadeLink['parentKey'],
    rootEntryId: row.root_entry_id,
    rootSchema: row.root_schema,
    rootTable: row.root_table,
    depth: Number(row.depth),
  };
}
