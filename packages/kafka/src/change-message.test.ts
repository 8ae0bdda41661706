import { describe, expect, it } from 'vitest';
import { encodeEntryBody, eventId, type ChangeEvent } from '@walaudit/core';
import { encodeChangeMessage } from './change-message.js';
import { MalformedChangeMessage, parseChangeMessage } from './change-message.schema.js';

function event(): ChangeEvent {
  return {
    id: eventId(0x19c3e28n, 2),
    op: 'update',
    schema: 'public',
    table: 'orders',
    keyKind: 'primary-key',
    pk: { id: '3' },
    columns: [
      { name: 'id', type: 'bigint', typeOid: 20 },
      { name: 'note', type: 'text', typeOid: 25 },
    ],
    before: { id: '3', note: 'tab\there "quoted" Zoë 🚀' },
    after: { id: '3', note: null },
    changed: ['note'],
    tx: { xid: 771, lsn: '0/19C3E28', commitTime: '2026-11-24T21:40:03.512077Z', seq: 2 },
    actor: { app: { user: 'alice', reason: 'GDPR 42', extra: { nested: [1, 2] } }, db: { user: 'bob', ip: null, applicationName: 'psql', statement: 'UPDATE ...', backendPid: 7 } },
  };
}

describe('change messages', () => {
  it('keys by xid, carries the headers, and parses back to the same hashed body', () => {
    const message = encodeChangeMessage({ event: event(), retentionDays: 30, critical: true });
    expect(message.key).toBe('771');
    expect(message.headers).toEqual({
      'content-type': 'application/json',
      'walaudit-schema': 'change-event',
      'walaudit-schema-version': '1',
      'walaudit-event-id': '00000000019C3E28-2',
    });
    const parsed = parseChangeMessage(Buffer.from(message.value));
    expect(parsed.retentionDays).toBe(30);
    expect(parsed.critical).toBe(true);
    // What the writer hashes is byte for byte what the reader would have hashed.
    expect(encodeEntryBody(parsed.event)).toBe(encodeEntryBody(event()));
  });

  it('keeps members a newer reader may add inside nested objects (they are hashed)', () => {
    const value = JSON.parse(encodeChangeMessage({ event: event(), retentionDays: 0, critical: false }).value as string);
    value.actor.db.sessionId = 'abc';
    expect(parseChangeMessage(Buffer.from(JSON.stringify(value))).event.actor.db).toMatchObject({ sessionId: 'abc' });
  });

  it.each([
    ['an empty value', null, /empty message value/],
    ['text that is not JSON', Buffer.from('hello'), /value is not JSON/],
    ['JSON that is not an event', Buffer.from('{"id":"x"}'), /^not a walaudit change event v1: id: expected <16 hex digits>-<seq>/],
  ])('refuses %s with a reason', (_, value, reason) => {
    expect(() => parseChangeMessage(value)).toThrow(MalformedChangeMessage);
    expect(() => parseChangeMessage(value)).toThrow(reason);
  });

  it('refuses an id that does not match tx.lsn and tx.seq', () => {
    const value = JSON.parse(encodeChangeMessage({ event: event(), retentionDays: 0, critical: false }).value as string);
    value.tx.seq = 5;
    expect(() => parseChangeMessage(Buffer.from(JSON.stringify(value)))).toThrow(/id 00000000019C3E28-2 does not match tx.lsn 0\/19C3E28 and tx.seq 5/);
  });

  it('refuses a message without the rule fields', () => {
    const value = JSON.parse(encodeChangeMessage({ event: event(), retentionDays: 0, critical: false }).value as string);
    delete value.retentionDays;
    expect(() => parseChangeMessage(Buffer.from(JSON.stringify(value)))).toThrow(/retentionDays/);
  });
});
