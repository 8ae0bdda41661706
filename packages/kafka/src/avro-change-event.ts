import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hashedBody, type AuditedEvent } from '@walaudit/core';

/** schemas/avro/change-event.avsc at the repository root: the same depth from src/ and dist/. */
export const CHANGE_EVENT_AVSC = fileURLToPath(new URL('../../../schemas/avro/change-event.avsc', import.meta.url));

export function loadChangeEventSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(CHANGE_EVENT_AVSC, 'utf8')) as Record<string, unknown>;
}

/**
 * An audited event as a record of change-event.avsc. Avro has no free-form object: `actor.app` and
 * `action` travel as their JSON text, which fromAvroRecord parses back, so the writer hashes the
 * same body as with JSON messages.
 */
export function toAvroRecord({ event, retentionDays, critical }: AuditedEvent): Record<string, unknown> {
  const db = event.actor.db;
  return {
    // The members the hash covers, as the JSON message carries them; then Avro's own forms.
    ...hashedBody(event),
    actor: {
      app: event.actor.app === undefined ? null : JSON.stringify(event.actor.app),
      db: db === undefined ? null : { user: db.user, ip: db.ip, applicationName: db.applicationName, statement: db.statement, backendPid: db.backendPid ?? null, statementEnd: db.statementEnd ?? null },
      tags: event.actor.tags ?? null,
      traceId: event.actor.traceId ?? null,
      spanId: event.actor.spanId ?? null,
    },
    action: event.action === undefined ? null : JSON.stringify(event.action),
    schemaChange: event.schemaChange ?? null,
    retentionDays,
    critical,
  };
}

interface AvroRecord {
  actor: {
    app: string | null;
    db: ({ backendPid: number | null; statementEnd?: string | null } & Record<string, unknown>) | null;
    tags?: Record<string, string> | null;
    traceId?: string | null;
    spanId?: string | null;
  };
  action: string | null;
  schemaChange: unknown;
  [key: string]: unknown;
}

/**
 * A decoded change-event.avsc record in the shape of the JSON message (optional members absent,
 * not null), for the same validation (changeMessageSchema) as a JSON message.
 */
export function fromAvroRecord(decoded: AvroRecord): unknown {
  // avsc returns instances of generated record classes (with methods on their prototype): plain
  // JSON objects, as the canonical encoding expects, from here on.
  const record = JSON.parse(JSON.stringify(decoded)) as AvroRecord;
  const { actor, action, schemaChange, ...rest } = record;
  const out: Record<string, unknown> = { ...rest, actor: {} };
  const outActor = out.actor as Record<string, unknown>;
  if (actor.app !== null) outActor.app = parseJsonText(actor.app, 'actor.app');
  if (actor.db !== null) {
    const { backendPid, statementEnd, ...db } = actor.db;
    outActor.db = { ...db, ...(backendPid === null ? {} : { backendPid }), ...(statementEnd == null ? {} : { statementEnd }) };
  }
  // Absent, not null, when the statement had no tags: the body hashes as it did before them.
  if (actor.tags != null) outActor.tags = actor.tags;
  if (actor.traceId != null) outActor.traceId = actor.traceId;
  if (actor.spanId != null) outActor.spanId = actor.spanId;
  if (action !== null) out.action = parseJsonText(action, 'action');
  if (schemaChange !== null) out.schemaChange = schemaChange;
  return out;
}

function parseJsonText(text: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Left as text: the validator then names the field.
    return `${field} is not JSON: ${text.slice(0, 80)}`;
  }
}
