import { encodeEntryBody, type AuditedEvent } from '@walaudit/core';
import type { IHeaders } from 'kafkajs';

/** Headers of every `<prefix>.changes` message: a consumer can pick its parser before reading the value. */
export const CHANGE_HEADERS = {
  contentType: 'content-type',
  schema: 'walaudit-schema',
  schemaVersion: 'walaudit-schema-version',
  eventId: 'walaudit-event-id',
} as const;

export const CHANGE_SCHEMA = 'change-event';
export const CHANGE_SCHEMA_VERSION = '1';
export const JSON_CONTENT_TYPE = 'application/json';

export interface OutgoingMessage {
  key: string;
  value: string | Buffer;
  headers: IHeaders;
}

/**
 * One change as a message: keyed by the transaction id, so the transaction's events share a
 * partition and keep their order. The value is the event's canonical encoding (the exact bytes
 * the hash chain covers when no rule masks anything later: none does, the rules ran already) with
 * `retentionDays` and `critical` from the matching rule appended.
 */
export function encodeChangeMessage(audited: AuditedEvent): OutgoingMessage {
  const { event, retentionDays, critical } = audited;
  const body = encodeEntryBody(event);
  return changeMessage(audited, `${body.slice(0, -1)},"retentionDays":${retentionDays},"critical":${critical}}`, JSON_CONTENT_TYPE);
}

/** The message of an event whose value is already encoded (JSON above, or Avro by createAvroEncoder). */
export function changeMessage({ event }: AuditedEvent, value: string | Buffer, contentType: string): OutgoingMessage {
  return {
    key: String(event.tx.xid),
    value,
    headers: {
      [CHANGE_HEADERS.contentType]: contentType,
      [CHANGE_HEADERS.schema]: CHANGE_SCHEMA,
      [CHANGE_HEADERS.schemaVersion]: CHANGE_SCHEMA_VERSION,
      [CHANGE_HEADERS.eventId]: event.id,
    },
  };
}
