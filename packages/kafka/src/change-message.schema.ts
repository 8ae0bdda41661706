import { z } from 'zod';
import { CHANGE_OPS, eventId, parseLsn, type AuditedEvent, type ChangeEvent } from '@walaudit/core';

/**
 * The JSON value of a `<prefix>.changes` message, version 1 (schemas/kafka-messages.md): the change
 * event as the audit rules left it, plus `retentionDays` and `critical`. Writers validate every
 * message with it, so a message walaudit did not produce is dead-lettered with the reason instead
 * of being stored. Nested objects keep members this version does not name (a newer reader may add
 * optional ones), since everything the body holds is hashed.
 */
const rowImage = z.record(z.string(), z.string().nullable());
const column = z.looseObject({ name: z.string(), type: z.string(), typeOid: z.number().int() });

export const changeMessageSchema = z.object({
  id: z.string().regex(/^[0-9A-F]{16}-\d+$/, 'expected <16 hex digits>-<seq>'),
  op: z.enum(CHANGE_OPS as [ChangeEvent['op'], ...ChangeEvent['op'][]]),
  schema: z.string(),
  table: z.string(),
  keyKind: z.enum(['primary-key', 'full-row']),
  pk: rowImage.nullable(),
  columns: z.array(column),
  before: rowImage.nullable(),
  after: rowImage.nullable(),
  changed: z.array(z.string()),
  tx: z.looseObject({
    xid: z.number().int().min(0),
    lsn: z.string().regex(/^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/, 'expected a Postgres LSN such as 0/19C3E28'),
    commitTime: z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, 'expected ISO 8601 UTC'),
    seq: z.number().int().min(0),
  }),
  actor: z.looseObject({
    app: z.looseObject({}).optional(),
    db: z.looseObject({ user: z.string(), ip: z.string().nullable(), applicationName: z.string(), statement: z.string() }).optional(),
  }),
  action: z.looseObject({ name: z.string() }).optional(),
  schemaChange: z.looseObject({ oldColumns: z.array(column).nullable(), newColumns: z.array(column) }).optional(),
  retentionDays: z.number().int().min(0),
  critical: z.boolean(),
});

export type ChangeMessage = z.output<typeof changeMessageSchema>;

const OPS = new Set<unknown>(CHANGE_OPS);
const ID = /^[0-9A-F]{16}-\d+$/;
const LSN = /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/;
const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): boolean => Number.isSafeInteger(value) && (value as number) >= 0;

function isRow(value: unknown): boolean {
  if (value === null) return true;
  if (!isObject(value)) return false;
  for (const key in value) {
    const cell = value[key];
    if (cell !== null && typeof cell !== 'string') return false;
  }
  return true;
}

function isColumns(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (const column of value) {
    if (!isObject(column) || typeof column.name !== 'string' || typeof column.type !== 'string' || !Number.isSafeInteger(column.typeOid)) return false;
  }
  return true;
}

/**
 * The same checks as changeMessageSchema, written out: zod took two thirds of a writer's reading
 * time. Never looser than the schema (a message it accepts, the schema accepts); anything it
 * refuses goes through the schema, which then names the problem.
 */
function isChangeMessage(json: unknown): json is ChangeMessage {
  if (!isObject(json)) return false;
  const { tx, actor, action, schemaChange } = json;
  if (typeof json.id !== 'string' || !ID.test(json.id) || !OPS.has(json.op)) return false;
  if (typeof json.schema !== 'string' || typeof json.table !== 'string') return false;
  if (json.keyKind !== 'primary-key' && json.keyKind !== 'full-row') return false;
  if (!isRow(json.pk) || !isRow(json.before) || !isRow(json.after) || !isColumns(json.columns)) return false;
  if (!Array.isArray(json.changed) || !json.changed.every((name) => typeof name === 'string')) return false;
  if (!isObject(tx) || !isCount(tx.xid) || !isCount(tx.seq)) return false;
  if (typeof tx.lsn !== 'string' || !LSN.test(tx.lsn) || typeof tx.commitTime !== 'string' || !ISO_UTC.test(tx.commitTime)) return false;
  if (!isObject(actor) || (actor.app !== undefined && !isObject(actor.app))) return false;
  const db = actor.db;
  if (db !== undefined) {
    if (!isObject(db) || typeof db.user !== 'string' || (db.ip !== null && typeof db.ip !== 'string')) return false;
    if (typeof db.applicationName !== 'string' || typeof db.statement !== 'string') return false;
  }
  if (action !== undefined && (!isObject(action) || typeof action.name !== 'string')) return false;
  if (schemaChange !== undefined) {
    if (!isObject(schemaChange) || !isColumns(schemaChange.newColumns)) return false;
    if (schemaChange.oldColumns !== null && !isColumns(schemaChange.oldColumns)) return false;
  }
  return isCount(json.retentionDays) && typeof json.critical === 'boolean';
}

/** Why a message cannot be stored: said in the dead-letter header `walaudit-dead-letter-reason`. */
export class MalformedChangeMessage extends Error {
  override readonly name = 'MalformedChangeMessage';
}

/** Parses and validates a message value; throws MalformedChangeMessage with a reason a person can read. */
export function parseChangeMessage(value: Buffer | null): AuditedEvent {
  if (value === null || value.length === 0) throw new MalformedChangeMessage('empty message value (a tombstone?)');
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (error) {
    throw new MalformedChangeMessage(`value is not JSON: ${(error as Error).message}`);
  }
  return validateChangeMessage(json);
}

/** Validates a parsed message (JSON, or an Avro record in the JSON shape); throws MalformedChangeMessage. */
export function validateChangeMessage(json: unknown): AuditedEvent {
  let data: ChangeMessage;
  if (isChangeMessage(json)) {
    data = json;
  } else {
    // The schema names what is wrong (and has the last word on what is right).
    const result = changeMessageSchema.safeParse(json);
    if (!result.success) {
      const issues = result.error.issues.slice(0, 5).map((issue) => `${issue.path.join('.') || '(value)'}: ${issue.message}`);
      throw new MalformedChangeMessage(`not a walaudit change event v1: ${issues.join('; ')}`);
    }
    data = result.data;
  }
  const { retentionDays, critical, ...event } = data;
  const expectedId = eventId(parseLsn(event.tx.lsn), event.tx.seq);
  if (event.id !== expectedId) throw new MalformedChangeMessage(`id ${event.id} does not match tx.lsn ${event.tx.lsn} and tx.seq ${event.tx.seq} (expected ${expectedId})`);
  event.columns = shared(event.columns, 'columns');
  event.actor = shared(event.actor, 'actor');
  return { event: event as ChangeEvent, retentionDays, critical };
}

/**
 * One object per distinct column list and actor: the events of a table (and of a statement) share
 * them, as they do in the reader, so the canonical encoding encodes each once per batch instead of
 * once per event (it caches by object), which was most of a writer's hashing time.
 */
const sharedObjects = new Map<string, unknown>();
const SHARED_LIMIT = 10_000;
/**
 * The object each kind last shared: consecutive messages are mostly of one table and statement,
 * and comparing with it costs far less than the JSON.stringify key (about 2 us a message).
 */
const lastShared: Record<'columns' | 'actor', unknown> = { columns: undefined, actor: undefined };

function shared<T>(value: T, kind: 'columns' | 'actor'): T {
  const last = lastShared[kind];
  if (last !== undefined && sameJson(last, value)) return last as T;
  const key = JSON.stringify(value);
  let known = sharedObjects.get(key);
  if (known === undefined) {
    if (sharedObjects.size >= SHARED_LIMIT) sharedObjects.clear();
    sharedObjects.set(key, value);
    known = value;
  }
  lastShared[kind] = known;
  return known as T;
}

/** Equal as parsed JSON values (member order aside: the canonical encoding sorts members). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  for (const key of keys) if (!Object.hasOwn(right, key) || !sameJson(left[key], right[key])) return false;
  return true;
}
