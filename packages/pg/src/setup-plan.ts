import type { RelationShape } from '@walaudit/core';
import { dollarQuotedBody, readSchemaSql } from './schema-files.js';
import { displayTable, quoteIdent, quoteLiteral, quoteTable } from './sql-names.js';
import { needsPartitionEvents, partitionEventSteps, type PartitionEventsState } from './partition-events.js';

/**
 * What `walaudit setup` still has to do to a database, as an ordered list of SQL steps. Pure: the
 * caller inspects the catalog (setup.ts) and runs the steps. Idempotent by construction: anything
 * the inspection found in place yields no step, so a second run plans nothing.
 */

export const WALAUDIT_SCHEMA = 'walaudit';
export const CONTEXT_FUNCTION = 'walaudit.emit_statement_context()';
export const CONTEXT_TRIGGER = 'walaudit_context';
const CONTEXT_SQL_FILE = 'context-trigger.sql';

export interface PlannedTable {
  schema: string;
  table: string;
  replicaIdentity: RelationShape['replicaIdentity'];
  hasContextTrigger: boolean;
  /** Already published by the publication (by a table list or FOR ALL TABLES). @defaultValue false */
  inPublication?: boolean;
  /** A partitioned table (relkind p): its rows live in its partitions. @defaultValue false */
  partitioned?: boolean;
  /**
   * `schema.table` of the partition tree's root when this is a partition. A partition whose root is
   * audited too is published through the root (publish_via_partition_root), never on its own, but
   * still needs its own REPLICA IDENTITY FULL and trigger: both are per leaf table in Postgres.
   */
  partitionOf?: string | null;
}

export interface ExistingObjects {
  /** @defaultValue functionExists (the function lives in the schema) */
  schemaExists?: boolean;
  publicationExists: boolean;
  slotExists: boolean;
  functionExists: boolean;
  /** false when the installed function's body differs from context-trigger.sql. @defaultValue true */
  functionUpToDate?: boolean;
  /** The existing publication's publish_via_partition_root. @defaultValue true */
  publicationViaRoot?: boolean;
  /** The existing publication publishes STORED generated columns (Postgres 18+). @defaultValue true */
  publicationGeneratedColumns?: boolean;
  /** The partition-change function and event triggers (partition-events.ts). @defaultValue none present */
  partitionEvents?: PartitionEventsState;
}

export interface SetupPlanInput {
  slot: string;
  publication: string;
  tables: PlannedTable[];
  /** Publish every table, present and future (FOR ALL TABLES), instead of the list. */
  allTables: boolean;
  existing: ExistingObjects;
  /** Drop the existing slot and create it anew (a lost slot, `--recreate-lost-slot`). */
  recreateSlot?: boolean;
  /** Create the slot as a failover slot (Postgres 17+). */
  failoverSlot?: boolean;
  /** server_version_num; publication options depend on it. @defaultValue 150000 */
  serverVersionNum?: number;
  /**
   * The role may create event triggers (a superuser): attach and detach of partitions are then
   * recorded. @defaultValue false
   */
  canCreateEventTriggers?: boolean;
}

/**
 * From Postgres 18 an UPDATE or DELETE fails ("cannot update table") when the table's replica
 * identity holds a generated column the publication does not publish, and REPLICA IDENTITY FULL
 * holds every column: so the publication publishes STORED generated columns there. Before 18
 * pgoutput never sends them, and the check does not exist.
 */
const GENERATED_COLUMNS_FROM = 180000;

function publicationOptions(input: SetupPlanInput): string[] {
  const options = ['publish_via_partition_root = true'];
  if ((input.serverVersionNum ?? 150000) >= GENERATED_COLUMNS_FROM) options.push('publish_generated_columns = stored');
  return options;
}

export type SetupStepKind = 'schema' | 'function' | 'partition-function' | 'partition-events' | 'trigger' | 'replica-identity' | 'publication' | 'publication-add' | 'publication-option' | 'slot-drop' | 'slot';

export interface SetupStep {
  kind: SetupStepKind;
  /** What the step does, for a dry run. */
  description: string;
  /** The log line once it is done. */
  done: string;
  sql: string;
  /**
   * Must run in its own transaction, after every other step has committed: a logical slot cannot be
   * created in a transaction that has already written.
   */
  ownTransaction: boolean;
}

/** The contract text of the context function, read from schemas/postgres/context-trigger.sql. */
export function contextFunctionSql(): string {
  return readSchemaSql(CONTEXT_SQL_FILE);
}

/** The function body Postgres stores (pg_proc.prosrc) when context-trigger.sql is installed. */
export function contextFunctionBody(): string {
  const body = dollarQuotedBody(contextFunctionSql());
  if (body === undefined) throw new Error(`${CONTEXT_SQL_FILE} has no dollar-quoted function body`);
  return body;
}

export function contextTriggerSql(schema: string, table: string): string {
  return (
    `CREATE TRIGGER ${CONTEXT_TRIGGER} BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${quoteTable(schema, table)} ` +
    `FOR EACH STATEMENT EXECUTE FUNCTION ${CONTEXT_FUNCTION}`
  );
}

export function planSetup(input: SetupPlanInput): SetupStep[] {
  const { existing, tables } = input;
  const steps: SetupStep[] = [];
  const step = (kind: SetupStepKind, description: string, done: string, sql: string, ownTransaction = false) =>
    steps.push({ kind, description, done, sql, ownTransaction });

  if (!(existing.schemaExists ?? existing.functionExists)) {
    step('schema', `create schema ${WALAUDIT_SCHEMA}`, `created schema ${WALAUDIT_SCHEMA}`, `CREATE SCHEMA IF NOT EXISTS ${WALAUDIT_SCHEMA}`);
  }
  if (!existing.functionExists) {
    step('function', `create function ${CONTEXT_FUNCTION}`, `created function ${CONTEXT_FUNCTION}`, contextFunctionSql().trim());
  } else if (existing.functionUpToDate === false) {
    step('function', `update function ${CONTEXT_FUNCTION}`, `updated function ${CONTEXT_FUNCTION}`, contextFunctionSql().trim());
  }
  if (input.canCreateEventTriggers && needsPartitionEvents(tables)) {
    steps.push(...partitionEventSteps(existing.partitionEvents ?? { functionExists: false, functionUpToDate: true, triggers: [] }));
  }
  for (const t of tables.filter((t) => !t.hasContextTrigger)) {
    const name = displayTable(t.schema, t.table);
    step('trigger', `add trigger ${CONTEXT_TRIGGER} on ${name}`, `added trigger ${CONTEXT_TRIGGER} on ${name}`, contextTriggerSql(t.schema, t.table));
  }
  // Without FULL, deletes and updates carry only the key: no snapshot of what was removed.
  for (const t of tables.filter((t) => t.replicaIdentity !== 'full')) {
    const name = displayTable(t.schema, t.table);
    step('replica-identity', `set REPLICA IDENTITY FULL on ${name}`, `set REPLICA IDENTITY FULL on ${name}`, `ALTER TABLE ${quoteTable(t.schema, t.table)} REPLICA IDENTITY FULL`);
  }
  steps.push(...publicationSteps(input));
  const recreate = existing.slotExists && input.recreateSlot === true;
  if (recreate) {
    step('slot-drop', `drop lost replication slot ${input.slot}`, `dropped lost replication slot ${input.slot}`, `SELECT pg_drop_replication_slot(${quoteLiteral(input.slot)})`, true);
  }
  if (!existing.slotExists || recreate) {
    const failover = input.failoverSlot === true;
    const what = `logical replication slot ${input.slot} (pgoutput${failover ? ', failover' : ''})`;
    // Arguments: name, plugin, temporary, two-phase, failover (the last exists from Postgres 17 on).
    const args = failover ? `${quoteLiteral(input.slot)}, 'pgoutput', false, false, true` : `${quoteLiteral(input.slot)}, 'pgoutput'`;
    step('slot', `create ${what}`, `created ${what}`, `SELECT pg_create_logical_replication_slot(${args})`, true);
  }
  return steps;
}

function optionNames(input: SetupPlanInput): string {
  return publicationOptions(input).map((o) => o.replace(/ = .*/, '')).join(' and ');
}

function publicationSteps(input: SetupPlanInput): SetupStep[] {
  const publication = quoteIdent(input.publication);
  const list = (tables: PlannedTable[]) => tables.map((t) => quoteTable(t.schema, t.table)).join(', ');
  const names = (tables: PlannedTable[]) => tables.map((t) => displayTable(t.schema, t.table)).join(', ');
  // A partition of an audited partitioned table is published through its root, so its changes are
  // audited under the root's name whichever partition holds the row.
  const audited = new Set(input.tables.map((t) => displayTable(t.schema, t.table)));
  const published = input.tables.filter((t) => !(t.partitionOf && audited.has(t.partitionOf)));
  if (!input.existing.publicationExists) {
    const target = input.allTables ? 'FOR ALL TABLES' : published.length > 0 ? `FOR TABLE ${list(published)}` : '';
    const shown = input.allTables ? 'FOR ALL TABLES' : published.length > 0 ? `FOR TABLE ${names(published)}` : '(no tables)';
    return [{
      kind: 'publication',
      description: `create publication ${input.publication} ${shown} with ${optionNames(input)}`,
      done: `created publication ${input.publication} ${shown} with ${optionNames(input)}`,
      sql: [`CREATE PUBLICATION ${publication}`, target, `WITH (${publicationOptions(input).join(', ')})`].filter((part) => part !== '').join(' '),
      ownTransaction: false,
    }];
  }
  const steps: SetupStep[] = [];
  // An existing publication is never recreated (its subscribers' view would change). Its
  // publish_via_partition_root is turned on only when an audited table is partitioned: without it
  // pgoutput names each leaf instead of the table the DBA listed.
  // Generated columns: always on 18+, since FULL identity would otherwise make updates fail.
  const hasPartitions = input.tables.some((t) => t.partitioned === true || t.partitionOf);
  const missingOptions = publicationOptions(input).filter((option) =>
    option.startsWith('publish_via_partition_root') ? hasPartitions && input.existing.publicationViaRoot === false : input.existing.publicationGeneratedColumns === false);
  if (missingOptions.length > 0) {
    const what = missingOptions.map((o) => o.replace(/ = .*/, '')).join(' and ');
    steps.push({
      kind: 'publication-option',
      description: `set ${what} on publication ${input.publication}`,
      done: `set ${what} on publication ${input.publication}`,
      sql: `ALTER PUBLICATION ${publication} SET (${missingOptions.join(', ')})`,
      ownTransaction: false,
    });
  }
  // Tables it lacks are added. FOR ALL TABLES publications report every table as published.
  const missing = published.filter((t) => !t.inPublication);
  if (missing.length === 0) return steps;
  return [...steps, {
    kind: 'publication-add',
    description: `add ${names(missing)} to publication ${input.publication}`,
    done: `added ${names(missing)} to publication ${input.publication}`,
    sql: `ALTER PUBLICATION ${publication} ADD TABLE ${list(missing)}`,
    ownTransaction: false,
  }];
}
