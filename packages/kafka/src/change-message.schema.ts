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
  const result = changeMessageSchema.safeParse(json);
  if (!result.success) {
    const issues = result.error.issues.slice(0, 5).map((issue) => `${issue.path.join('.') || '(value)'}: ${issue.message}`);
    throw new MalformedChangeMessage(`not a walaudit change event v1: ${issues.join('; ')}`);
  }
  const { retentionDays, critical, ...event } = result.data;
  const expectedId = eventId(parseLsn(event.tx.lsn), event.tx.seq);
  if (event.id !== expectedId) throw new MalformedChangeMessage(`id ${event.id} does not match tx.lsn ${event.tx.lsn} and tx.seq ${event.tx.seq} (expected ${expectedId})`);
  return { event: event as ChangeEvent, retentionDays, critical };
}
