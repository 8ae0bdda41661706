import type pg from 'pg';
import { WalauditError, type RelationShape } from '@walaudit/core';
import { CONTEXT_TRIGGER, WALAUDIT_SCHEMA, contextFunctionBody, type ExistingObjects, type PlannedTable } from './setup-plan.js';
import { displayTable } from './sql-names.js';
import { readPartitionEvents } from './partition-events.js';

/** What `walaudit setup` and `walaudit status` need to know about a database before touching it. */
export interface InspectedTable extends PlannedTable {
  inPublication: boolean;
  hasPrimaryKey: boolean;
  /** The connected role owns it (or is a member of its owner): it may add triggers and set identity. */
  owned: boolean;
  /** The index of REPLICA IDENTITY USING INDEX, else null. */
  identityIndex: string | null;
}

export interface InspectedSlot {
  plugin: string | null;
  slotType: string;
  database: string | null;
  active: boolean;
  activePid: number | null;
  confirmedLsn: string | null;
  walStatus: string | null;
  /** Postgres 17+. */
  invalidationReason: string | null;
  /** Postgres 17+: a failover slot, kept in step on standbys with sync_replication_slots. */
  failover: boolean | null;
}

export interface DatabaseInspection {
  walLevel: string;
  serverVersion: string;
  /** server_version_num, e.g. 170004. */
  serverVersionNum: number;
  database: string;
  role: { name: string; superuser: boolean; replication: boolean };
  tables: InspectedTable[];
  /** Every user table is audited: the publication is (to be) FOR ALL TABLES. */
  allTables: boolean;
  existing: ExistingObjects & { publicationAllTables: boolean; slot: InspectedSlot | null };
}

export interface InspectOptions {
  /** `schema.table` or `table` (resolved through search_path, like psql); empty: every user table. */
  tables: string[];
  slot: string;
  publication: string;
}

const REPLICA_IDENTITY: Record<string, RelationShape['replicaIdentity']> = { d: 'default', n: 'nothing', f: 'full', i: 'index' };

export async function inspectDatabase(client: pg.ClientBase, options: InspectOptions): Promise<DatabaseInspection> {
  const server = (await client.query<{ wal_level: string; version: string; version_num: number; database: string; rolname: string; rolsuper: boolean; rolreplication: boolean }>(
    `SELECT (SELECT setting FROM pg_settings WHERE name = 'wal_level') AS wal_level,
            current_setting('server_version') AS version, current_setting('server_version_num')::int AS version_num,
            current_database() AS database,
            r.rolname, r.rolsuper, r.rolreplication
       FROM pg_roles r WHERE r.rolname = current_user`,
  )).rows[0]!;
  const oids = await resolveTables(client, options.tables);
  const tables = await readTables(client, oids, options.publication);
  const existing = await readExisting(client, options);
  return {
    walLevel: server.wal_level,
    serverVersion: server.version,
    serverVersionNum: server.version_num,
    database: server.database,
    role: { name: server.rolname, superuser: server.rolsuper, replication: server.rolreplication },
    tables,
    allTables: options.tables.length === 0,
    existing,
  };
}

/** The oid of each named table; PG_TABLE_NOT_FOUND names the first that is missing or is not a table. */
async function resolveTables(client: pg.ClientBase, names: string[]): Promise<number[]> {
  const oids: number[] = [];
  for (const name of names) {
    let row: { oid: number | null; relkind: string | null } | undefined;
    try {
      row = (await client.query(
        `SELECT c.oid::int AS oid, c.relkind FROM (SELECT to_regclass($1) AS oid) r LEFT JOIN pg_class c ON c.oid = r.oid`,
        [name],
      )).rows[0];
    } catch {
      row = undefined; // to_regclass rejects malformed names (too many dots) instead of returning null
    }
    if (!row?.oid) throw new WalauditError('PG_TABLE_NOT_FOUND', `table ${name} does not exist (check source.tables; names are resolved like psql's, through search_path)`);
    if (row.relkind !== 'r' && row.relkind !== 'p') throw new WalauditError('PG_TABLE_NOT_FOUND', `${name} is not a table (relkind ${row.relkind}): only tables can be audited`);
    oids.push(row.oid);
  }
  return oids;
}

async function readTables(client: pg.ClientBase, oids: number[], publication: string): Promise<InspectedTable[]> {
  // pg_publication_tables lists a partitioned table's leaves, not the table itself: pg_publication_rel
  // says whether the parent was added. With no list: permanent user tables, not a walaudit or extension object (FOR ALL TABLES still
  // publishes those; they just get no trigger and keep their identity).
  // A listed partitioned table brings its whole partition tree: identity and triggers are per leaf.
  const { rows } = await client.query<{ schema: string; table: string; relreplident: string; relkind: string; root: { schema: string; table: string } | null; has_trigger: boolean; has_pk: boolean; in_publication: boolean; owned: boolean; identity_index: string | null }>(
    `SELECT n.nspname AS schema, c.relname AS table, c.relreplident, c.relkind::text AS relkind,
            CASE WHEN c.relispartition THEN (SELECT json_build_object('schema', rn.nspname, 'table', rc.relname) FROM pg_class rc
                                              JOIN pg_namespace rn ON rn.oid = rc.relnamespace WHERE rc.oid = pg_partition_root(c.oid)) END AS root,
            EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = $3 AND NOT t.tgisinternal) AS has_trigger,
            EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AS has_pk,
            (EXISTS (SELECT 1 FROM pg_publication_tables p WHERE p.pubname = $2 AND p.schemaname = n.nspname AND p.tablename = c.relname)
             OR EXISTS (SELECT 1 FROM pg_publication_rel r JOIN pg_publication p ON p.oid = r.prpubid WHERE p.pubname = $2 AND r.prrelid = c.oid)) AS in_publication,
            pg_has_role(c.relowner, 'USAGE') AS owned,
            (SELECT ic.relname FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = c.oid AND i.indisreplident) AS identity_index
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE CASE WHEN cardinality($1::oid[]) > 0
            THEN c.oid = ANY($1::oid[]) OR c.oid IN (SELECT t.relid FROM unnest($1::oid[]) AS l(oid), pg_partition_tree(l.oid::regclass) t)
            ELSE c.relkind IN ('r', 'p') AND c.relpersistence = 'p'
                 AND n.nspname NOT IN ('pg_catalog', 'information_schema', $4) AND n.nspname NOT LIKE 'pg\\_%'
                 AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
            END
      ORDER BY n.nspname, c.relname`,
    [oids, publication, CONTEXT_TRIGGER, WALAUDIT_SCHEMA],
  );
  return rows.map((row) => ({
    schema: row.schema,
    table: row.table,
    replicaIdentity: REPLICA_IDENTITY[row.relreplident] ?? 'default',
    hasContextTrigger: row.has_trigger,
    partitioned: row.relkind === 'p',
    partitionOf: row.root ? displayTable(row.root.schema, row.root.table) : null,
    inPublication: row.in_publication,
    hasPrimaryKey: row.has_pk,
    owned: row.owned,
    identityIndex: row.identity_index,
  }));
}

async function readExisting(client: pg.ClientBase, options: InspectOptions): Promise<DatabaseInspection['existing']> {
  const { rows } = await client.query<{ schema_exists: boolean; prosrc: string | null; puballtables: boolean | null; pubviaroot: boolean | null; pubgencols: string | null; slot: InspectedSlot | null }>(
    `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $3) AS schema_exists,
            (SELECT p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname = $3 AND p.proname = 'emit_statement_context' AND p.pronargs = 0) AS prosrc,
            (SELECT puballtables FROM pg_publication WHERE pubname = $2) AS puballtables,
            (SELECT pubviaroot FROM pg_publication WHERE pubname = $2) AS pubviaroot,
            (SELECT to_jsonb(p) ->> 'pubgencols' FROM pg_publication p WHERE pubname = $2) AS pubgencols,
            (SELECT json_build_object('plugin', plugin, 'slotType', slot_type, 'database', database, 'active', active, 'activePid', active_pid,
                                      'confirmedLsn', confirmed_flush_lsn::text, 'walStatus', wal_status,
                                      'invalidationReason', to_jsonb(s) ->> 'invalidation_reason', 'failover', (to_jsonb(s) ->> 'failover')::boolean)
               FROM pg_replication_slots s WHERE slot_name = $1) AS slot`,
    [options.slot, options.publication, WALAUDIT_SCHEMA],
  );
  const row = rows[0]!;
  return {
    schemaExists: row.schema_exists,
    functionExists: row.prosrc !== null,
    functionUpToDate: row.prosrc === null || row.prosrc === contextFunctionBody(),
    publicationExists: row.puballtables !== null,
    publicationAllTables: row.puballtables === true,
    publicationViaRoot: row.pubviaroot !== false,
    // Postgres 18 stores 'n' (none) or 's' (stored); older servers have no such column.
    publicationGeneratedColumns: row.pubgencols !== 'n',
    slotExists: row.slot !== null,
    slot: row.slot,
    partitionEvents: await readPartitionEvents(client),
  };
}

/** `schema.table` of every inspected table without a primary key. */
export function tablesWithoutPrimaryKey(inspection: DatabaseInspection): string[] {
  return inspection.tables.filter((t) => !t.hasPrimaryKey).map((t) => displayTable(t.schema, t.table));
}
