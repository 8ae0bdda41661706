import type pg from 'pg';
import type { RelationShape } from '@walaudit/core';
import { WALAUDIT_SCHEMA } from './setup-plan.js';
import { displayTable, quoteIdent, quoteLiteral, quoteTable } from './sql-names.js';

/**
 * What `walaudit setup` did to a database that teardown must know later: which instances (slot and
 * publication) use the shared schema, function and triggers, and the REPLICA IDENTITY each table
 * had before setup set FULL. Kept as the comment of the walaudit schema: catalog data, so writing it
 * puts nothing into the WAL that an audited publication would carry.
 */
export interface SetupRecord {
  instances: { slot: string; publication: string }[];
  replicaIdentity: IdentityChange[];
}

export interface IdentityChange {
  schema: string;
  table: string;
  /** The identity before setup; `index` names its index. */
  was: Exclude<RelationShape['replicaIdentity'], 'full'>;
  index?: string;
}

const MARK = 'walaudit setup record v1: ';

export function emptyRecord(): SetupRecord {
  return { instances: [], replicaIdentity: [] };
}

/** The record in a schema comment; an absent or foreign comment is an empty record. */
export function parseSetupRecord(comment: string | null): SetupRecord {
  if (!comment?.startsWith(MARK)) return emptyRecord();
  try {
    const parsed = JSON.parse(comment.slice(MARK.length)) as Partial<SetupRecord>;
    return { instances: parsed.instances ?? [], replicaIdentity: parsed.replicaIdentity ?? [] };
  } catch {
    return emptyRecord();
  }
}

export function formatSetupRecord(record: SetupRecord): string {
  return MARK + JSON.stringify(record);
}

/** The record with this instance in it, and the identity changes not yet recorded (the first `was` wins). */
export function recordSetup(record: SetupRecord, instance: { slot: string; publication: string }, changes: IdentityChange[]): SetupRecord {
  const instances = record.instances.some((i) => i.slot === instance.slot && i.publication === instance.publication) ? record.instances : [...record.instances, instance];
  const known = new Set(record.replicaIdentity.map((c) => displayTable(c.schema, c.table)));
  const added = changes.filter((c) => !known.has(displayTable(c.schema, c.table)));
  return { instances, replicaIdentity: [...record.replicaIdentity, ...added] };
}

export async function readSetupRecord(client: pg.ClientBase): Promise<SetupRecord | null> {
  const { rows } = await client.query<{ comment: string | null }>(
    `SELECT obj_description(oid, 'pg_namespace') AS comment FROM pg_namespace WHERE nspname = $1`,
    [WALAUDIT_SCHEMA],
  );
  return rows[0] ? parseSetupRecord(rows[0].comment) : null;
}

export async function writeSetupRecord(client: pg.ClientBase, record: SetupRecord): Promise<void> {
  await client.query(`COMMENT ON SCHEMA ${quoteIdent(WALAUDIT_SCHEMA)} IS ${quoteLiteral(formatSetupRecord(record))}`);
}

/** The SQL that gives a table back the identity it had before setup. */
export function resetIdentitySql(change: IdentityChange): string {
  const target = change.was === 'index' && change.index ? `USING INDEX ${quoteIdent(change.index)}` : change.was === 'nothing' ? 'NOTHING' : 'DEFAULT';
  return `ALTER TABLE ${quoteTable(change.schema, change.table)} REPLICA IDENTITY ${target}`;
}

/** `DEFAULT`, `NOTHING`, `USING INDEX orders_key`: the identity as a DBA writes it. */
export function describeIdentity(change: IdentityChange): string {
  return change.was === 'index' ? `USING INDEX ${change.index ?? '?'}` : change.was.toUpperCase();
}
