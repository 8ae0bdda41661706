import type pg from 'pg';
import { displayTable } from './sql-names.js';
import type { SetupRecord } from './setup-record.js';

/**
 * What the walaudit instances that stay after a teardown still use. Slots are cluster-wide and
 * publications per database; the shared schema, function and triggers serve every instance in the
 * database, so teardown removes a piece only when nothing that remains needs it.
 */
export interface RemainingUse {
  /** `schema.table` -> why it stays audited: the first remaining publication that publishes it. */
  published: Map<string, string>;
  /** Instances of the setup record whose slot still exists in this database. */
  instances: { slot: string; publication: string }[];
}

/**
 * Publications in the setup record are walaudit instances; others cannot be told apart from an
 * instance set up before walaudit kept a record, so their tables are kept too (a kept trigger costs
 * one small WAL message per statement; a removed one costs the audit trail its who and where).
 */
export async function remainingUse(client: pg.ClientBase, record: SetupRecord, leaving: { slot: string; publication: string | null }): Promise<RemainingUse> {
  const slots = await client.query<{ slot_name: string }>(
    `SELECT slot_name FROM pg_replication_slots WHERE database = current_database() AND slot_name <> $1`,
    [leaving.slot],
  );
  const liveSlots = new Set(slots.rows.map((r) => r.slot_name));
  const instances = record.instances.filter((i) => i.slot !== leaving.slot && liveSlots.has(i.slot));
  const { rows } = await client.query<{ pubname: string; schema: string; table: string }>(
    `SELECT pubname, schemaname AS schema, tablename AS table FROM pg_publication_tables WHERE pubname <> ALL($1::text[])
     UNION
     SELECT p.pubname, n.nspname, c.relname FROM pg_publication_rel r JOIN pg_publication p ON p.oid = r.prpubid
       JOIN pg_class c ON c.oid = r.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE p.pubname <> ALL($1::text[])
     UNION
     -- A partitioned table published through its root keeps its partitions' triggers too.
     SELECT pt.pubname, n.nspname, c.relname FROM pg_publication_tables pt
       CROSS JOIN LATERAL pg_partition_tree(format('%I.%I', pt.schemaname, pt.tablename)::regclass) tree
       JOIN pg_class c ON c.oid = tree.relid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE pt.pubname <> ALL($1::text[])
     ORDER BY 1, 2, 3`,
    [leaving.publication === null ? [] : [leaving.publication]],
  );
  const published = new Map<string, string>();
  for (const row of rows) {
    const table = displayTable(row.schema, row.table);
    if (!published.has(table)) published.set(table, describePublication(row.pubname, record, instances));
  }
  return { published, instances };
}

function describePublication(name: string, record: SetupRecord, instances: RemainingUse['instances']): string {
  const instance = instances.find((i) => i.publication === name);
  if (instance) return `publication ${name} of the walaudit instance on slot ${instance.slot}`;
  if (record.instances.some((i) => i.publication === name)) return `publication ${name} (a walaudit instance whose slot is gone: run teardown with --publication ${name} to remove it)`;
  return `publication ${name} (not in walaudit's setup record: an instance set up by an older walaudit, or another consumer)`;
}
