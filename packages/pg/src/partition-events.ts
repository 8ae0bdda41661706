import type pg from 'pg';
import { dollarQuotedBody, readSchemaSql } from './schema-files.js';

/** A setup step (setup-plan.ts's SetupStep, of these two kinds). */
export interface PartitionEventStep {
  kind: 'partition-function' | 'partition-events';
  description: string;
  done: string;
  sql: string;
  ownTransaction: false;
}

/**
 * ATTACH / DETACH PARTITION (and CREATE TABLE ... PARTITION OF, DROP TABLE of a partition) of an
 * audited partitioned table, which pgoutput never sends: two event triggers around the DDL write a
 * `walaudit.partition` message the reader records as an entry of the partitioned table. The
 * contract is schemas/postgres/partition-events.sql. The function and the triggers are shared by
 * every walaudit instance in the database, like the context function.
 */

export const PARTITION_FUNCTION = 'walaudit.record_partition_change()';
export const PARTITION_EVENT_TRIGGERS = ['walaudit_partitions_before', 'walaudit_partitions_after'] as const;
const PARTITION_SQL_FILE = 'partition-events.sql';
const TAGS = `WHEN TAG IN ('ALTER TABLE', 'CREATE TABLE', 'DROP TABLE')`;

export interface PartitionEventsState {
  functionExists: boolean;
  /** false when the installed function's body differs from partition-events.sql. */
  functionUpToDate: boolean;
  /** The event triggers present (by name). */
  triggers: string[];
}

export function partitionFunctionSql(): string {
  return readSchemaSql(PARTITION_SQL_FILE).trim();
}

export function partitionFunctionBody(): string {
  const body = dollarQuotedBody(partitionFunctionSql());
  if (body === undefined) throw new Error(`${PARTITION_SQL_FILE} has no dollar-quoted function body`);
  return body;
}

/** Whether the audited tables hold a partitioned table, the one case the event triggers serve. */
export function needsPartitionEvents(tables: readonly { partitioned?: boolean }[]): boolean {
  return tables.some((t) => t.partitioned === true);
}

/**
 * The steps that install (or update) the function and the two event triggers. Only a superuser
 * may create event triggers: for another role there is no step, and setup warns instead.
 */
export function partitionEventSteps(state: PartitionEventsState): PartitionEventStep[] {
  const steps: PartitionEventStep[] = [];
  const step = (kind: PartitionEventStep['kind'], description: string, done: string, sql: string) => steps.push({ kind, description, done, sql, ownTransaction: false });
  if (!state.functionExists || !state.functionUpToDate) {
    const verb = state.functionExists ? 'update' : 'create';
    step('partition-function', `${verb} function ${PARTITION_FUNCTION} (records ATTACH and DETACH PARTITION)`, `${verb}d function ${PARTITION_FUNCTION}`, partitionFunctionSql());
  }
  const [before, after] = PARTITION_EVENT_TRIGGERS;
  if (!state.triggers.includes(before)) {
    step('partition-events', `create event trigger ${before} on ddl_command_start`, `created event trigger ${before}`,
      `CREATE EVENT TRIGGER ${before} ON ddl_command_start ${TAGS} EXECUTE FUNCTION ${PARTITION_FUNCTION}`);
  }
  if (!state.triggers.includes(after)) {
    step('partition-events', `create event trigger ${after} on ddl_command_end`, `created event trigger ${after}`,
      `CREATE EVENT TRIGGER ${after} ON ddl_command_end ${TAGS} EXECUTE FUNCTION ${PARTITION_FUNCTION}`);
  }
  return steps;
}

export const PARTITION_EVENTS_NEED_SUPERUSER =
  'attaching and detaching partitions will not be recorded: only a superuser may create the event triggers that see them; run `walaudit setup` once as a superuser';

export async function readPartitionEvents(client: pg.ClientBase): Promise<PartitionEventsState> {
  const { rows } = await client.query<{ prosrc: string | null; triggers: string[] }>(
    `SELECT (SELECT p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname = 'walaudit' AND p.proname = 'record_partition_change' AND p.pronargs = 0) AS prosrc,
            ARRAY(SELECT evtname::text FROM pg_event_trigger WHERE evtname = ANY($1::text[]) ORDER BY 1) AS triggers`,
    [[...PARTITION_EVENT_TRIGGERS]],
  );
  const row = rows[0]!;
  return { functionExists: row.prosrc !== null, functionUpToDate: row.prosrc === null || row.prosrc === partitionFunctionBody(), triggers: row.triggers };
}

/**
 * Teardown, once no instance remains: the event triggers, then their function (it cannot go
 * while they use it). Returns what it removed; a role that may not drop them is told why.
 */
export async function dropPartitionEvents(client: pg.ClientBase, note: (line: string) => void, log: (line: string) => void): Promise<void> {
  const state = await readPartitionEvents(client);
  try {
    for (const name of state.triggers) {
      await client.query(`DROP EVENT TRIGGER IF EXISTS ${name}`);
      note(`dropped event trigger ${name}`);
    }
    if (state.functionExists) {
      await client.query(`DROP FUNCTION IF EXISTS ${PARTITION_FUNCTION}`);
      note(`dropped function ${PARTITION_FUNCTION}`);
    }
  } catch (error) {
    log(`kept the event triggers ${PARTITION_EVENT_TRIGGERS.join(' and ')} and function ${PARTITION_FUNCTION}: ${(error as Error).message} (a superuser can drop them)`);
  }
}
