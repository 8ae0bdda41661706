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

  it('carries the statement tags, the trace and a long statement\'s end', () => {
    const input = audited({
      actor: {
        app: { user: 'carol', userFromTag: 'user' },
        db: { user: 'app', ip: '10.0.0.1', applicationName: 'web', statement: 'DELETE ...', statementEnd: "...) /*user='carol'*/", backendPid: 7 },
        tags: { user: 'carol', tracestate: 'congo=t61rcWkgMzE', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        spanId: '00f067aa0ba902b7',
      },
    });
    const output = roundTrip(input);
    expect(output.event.actor).toEqual(input.event.actor);
    expect(encodeEntryBody(output.event)).toBe(encodeEntryBody(input.event));
  });

  it('reads a message written before the tag fields existed (new fields have defaults), to the same body', () => {
    const schema = loadChangeEventSchema() as { fields: Array<{ name: string; type: { fields: Array<{ name: string; type: unknown }> } }> };
    const actor = schema.fields.find((field) => field.name === 'actor')!.type;
    actor.fields = actor.fields.filter((field) => !['tags', 'traceId', 'spanId'].includes(field.name));
    const dbRecord = (actor.fields.find((field) => field.name === 'db')!.type as [string, { fields: Array<{ name: string }> }])[1];
    dbRecord.fields = dbRecord.fields.filter((field) => field.name !== 'statementEnd');
    const oldType = avsc.Type.forSchema(schema as unknown as avsc.Schema);
    const input = audited();
    const { tags: _t, traceId: _r, spanId: _s, ...oldActor } = toAvroRecord(input).actor as Record<string, unknown>;
    const { statementEnd: _e, ...oldDb } = oldActor.db as Record<string, unknown>;
    const written = oldType.toBuffer({ ...toAvroRecord(input), actor: { ...oldActor, db: oldDb } });
    const read = type.fromBuffer(written, type.createResolver(oldType));
    const output = validateChangeMessage(fromAvroRecord(read));
    expect(encodeEntryBody(output.event)).toBe(encodeEntryBody(input.event));
  });

  it('is a valid Avro schema whose every top-level field is documented in the JSON message', () => {
    const names = (loadChangeEventSchema().fields as { name: string }[]).map((field) => field.name);
    expect(names).toEqual(['id', 'op', 'schema', 'table', 'keyKind', 'pk', 'columns', 'before', 'after', 'changed', 'tx', 'actor', 'action', 'schemaChange', 'retentionDays', 'critical']);
  });
});
