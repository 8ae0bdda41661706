import { describe, expect, it } from 'vitest';
import avsc from 'avsc';
import { encodeEntryBody, eventId, type AuditedEvent } from '@walaudit/core';
import { fromAvroRecord, loadChangeEventSchema, toAvroRecord } from './avro-change-event.js';
import { validateChangeMessage } from './change-message.schema.js';

const type = avsc.Type.forSchema(loadChangeEventSchema() as avsc.Schema);

function audited(overrides: Partial<AuditedEvent['event']> = {}): AuditedEvent {
  return {
    retentionDays: 365,
    critical: true,
    event: {
      id: eventId(0x19c3e28n, 0),
      op: 'delete',
      schema: 'public',
      table: 'orders',
      keyKind: 'primary-key',
      pk: { id: '3' },
      columns: [{ name: 'id', type: 'bigint', typeOid: 20 }, { name: 'note', type: 'text', typeOid: 25 }],
      before: { id: '3', note: null },
      after: null,
      changed: [],
      tx: { xid: 4_000_000_000, lsn: '0/19C3E28', commitTime: '2026-11-24T21:40:03.512077Z', seq: 0 },
      actor: { app: { user: 'alice', ticket: 42, tags: ['gdpr'] }, db: { user: 'bob', ip: '10.0.0.1', applicationName: 'psql', statement: 'DELETE ...' } },
      ...overrides,
    },
  };
}

/** What a writer does with an Avro message, minus the registry's 5-byte header. */
const roundTrip = (input: AuditedEvent) => validateChangeMessage(fromAvroRecord(type.fromBuffer(type.toBuffer(toAvroRecord(input)))));

describe('schemas/avro/change-event.avsc', () => {
  it('carries an event through Avro binary to the same hashed body, retention and flag', () => {
    const input = audited();
    const output = roundTrip(input);
    expect(encodeEntryBody(output.event)).toBe(encodeEntryBody(input.event));
    expect(output).toMatchObject({ retentionDays: 365, critical: true });
  });

  it('keeps absent optional members absent (not null), so the hash is the one JSON gives', () => {
    const input = audited({ actor: { db: { user: 'bob', ip: null, applicationName: 'psql', statement: 'x', backendPid: 12 } } });
    const output = roundTrip(input);
    expect(output.event.actor).toEqual(input.event.actor);
    expect('action' in output.event).toBe(false);
    expect(encodeEntryBody(output.event)).toBe(encodeEntryBody(input.event));
  });

  it('carries actions and schema changes', () => {
    const columns = [{ name: 'id', type: 'bigint', typeOid: 20 }];
    const action = audited({ op: 'action', pk: null, before: null, action: { name: 'export', rows: 10 } });
    expect(encodeEntryBody(roundTrip(action).event)).toBe(encodeEntryBody(action.event));
    const schema = audited({ op: 'schema', pk: null, before: null, changed: ['note'], schemaChange: { oldColumns: null, newColumns: columns } });
    expect(encodeEntryBody(roundTrip(schema).event)).toBe(encodeEntryBody(schema.event));
  });

  it('is a valid Avro schema whose every top-level field is documented in the JSON message', () => {
    const names = (loadChangeEventSchema().fields as { name: string }[]).map((field) => field.name);
    expect(names).toEqual(['id', 'op', 'schema', 'table', 'keyKind', 'pk', 'columns', 'before', 'after', 'changed', 'tx', 'actor', 'action', 'schemaChange', 'retentionDays', 'critical']);
  });
});
