import { describe, expect, it } from 'vitest';
import { encodeEntryBody, eventId, type ChangeEvent } from '@walaudit/core';
import { encodeChangeMessage } from './change-message.js';
import { changeMessageSchema, MalformedChangeMessage, parseChangeMessage } from './change-message.schema.js';

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

  it('gives consecutive events of one table one column list and actor object, and never shares unequal ones', () => {
    const parse = (e: ChangeEvent) => parseChangeMessage(Buffer.from(encodeChangeMessage({ event: e, retentionDays: 0, critical: false }).value)).event;
    const first = parse(event());
    const second = parse({ ...event(), id: eventId(0x19c3e28n, 3), tx: { ...event().tx, seq: 3 } });
    expect(second.columns).toBe(first.columns);
    expect(second.actor).toBe(first.actor);
    const renamed = parse({ ...event(), columns: [{ name: 'id', type: 'bigint', typeOid: 20 }, { name: 'note2', type: 'text', typeOid: 25 }] });
    expect(renamed.columns).not.toBe(first.columns);
    expect(renamed.columns.map((c) => c.name)).toEqual(['id', 'note2']);
    const otherActor = parse({ ...event(), actor: { ...event().actor, db: { ...event().actor.db!, user: 'carol' } } });
    expect(otherActor.actor).not.toBe(first.actor);
    expect(otherActor.actor.db?.user).toBe('carol');
    // Back to the first list: the one shared before, not a new copy.
    expect(parse(event()).columns).toBe(first.columns);
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

  // The hand-written check must never accept what the schema refuses.
  const mutations: [string, (value: Record<string, any>) => void][] = [
    ['id in lower case', (v) => (v.id = v.id.toLowerCase())],
    ['unknown op', (v) => (v.op = 'merge')],
    ['numeric table', (v) => (v.table = 5)],
    ['keyKind', (v) => (v.keyKind = 'pk')],
    ['pk as array', (v) => (v.pk = ['3'])],
    ['number in a row', (v) => (v.before.id = 3)],
    ['column without typeOid', (v) => delete v.columns[0].typeOid],
    ['fractional typeOid', (v) => (v.columns[0].typeOid = 1.5)],
    ['changed of numbers', (v) => (v.changed = [1])],
    ['negative xid', (v) => (v.tx.xid = -1)],
    ['lsn spelling', (v) => (v.tx.lsn = '0x19C3E28')],
    ['local commit time', (v) => (v.tx.commitTime = '2026-11-24 21:40:03')],
    ['actor.app as text', (v) => (v.actor.app = 'alice')],
    ['actor.db without user', (v) => delete v.actor.db.user],
    ['action null', (v) => (v.action = null)],
    ['action without name', (v) => (v.action = { rows: 1 })],
    ['schemaChange without newColumns', (v) => (v.schemaChange = { oldColumns: null })],
    ['retentionDays as text', (v) => (v.retentionDays = '90')],
    ['critical as number', (v) => (v.critical = 1)],
    ['tx as an array', (v) => (v.tx = [])],
  ];

  it.each(mutations)('refuses a message with %s, as the schema does', (_, mutate) => {
    const value = JSON.parse(encodeChangeMessage({ event: event(), retentionDays: 90, critical: false }).value as string);
    mutate(value);
    const text = JSON.stringify(value);
    expect(changeMessageSchema.safeParse(JSON.parse(text)).success).toBe(false);
    expect(() => parseChangeMessage(Buffer.from(text))).toThrow(MalformedChangeMessage);
  });
});
