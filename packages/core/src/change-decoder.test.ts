import { describe, expect, it } from 'vitest';
import { ChangeDecoder, type DecodeOutcome, type DecoderNotice } from './change-decoder.js';
import type { ChangeEvent, ColumnDef } from './change-event.types.js';
import type { RelationShape, WalMessage, WalTuple } from './wal-message.types.js';

const LSN = 0x1796738n; // 0/1796738
const END_LSN = 0x1796770n;
const MICROS = 1_700_000_000_123_456n; // 2023-11-14T22:13:20.123456Z
const COMMIT_TIME = '2023-11-14T22:13:20.123456Z';

const ID: ColumnDef = { name: 'id', type: 'int8', typeOid: 20 };
const EMAIL: ColumnDef = { name: 'email', type: 'text', typeOid: 25 };
const NOTE: ColumnDef = { name: 'note', type: 'text', typeOid: 25 };

function relation(overrides: Partial<RelationShape> = {}): RelationShape {
  return {
    oid: 16384,
    schema: 'public',
    table: 'users',
    columns: [ID, EMAIL, NOTE],
    primaryKey: ['id'],
    replicaIdentity: 'full',
    ...overrides,
  };
}

const USERS = relation();
const LOGS = relation({ oid: 16400, table: 'logs', columns: [{ name: 'line', type: 'text', typeOid: 25 }], primaryKey: [] });

const begin = (xid = 731, commitLsn = LSN, commitTimeMicros = MICROS): WalMessage => ({ tag: 'begin', xid, commitLsn, commitTimeMicros });
const commit = (commitLsn = LSN, commitEndLsn = END_LSN): WalMessage => ({ tag: 'commit', commitLsn, commitEndLsn });
const rel = (shape: RelationShape): WalMessage => ({ tag: 'relation', relation: shape });
const insert = (after: WalTuple, relationOid = USERS.oid): WalMessage => ({ tag: 'insert', relationOid, after });
const update = (before: WalTuple | null, after: WalTuple, relationOid = USERS.oid): WalMessage => ({ tag: 'update', relationOid, before, after });
const del = (before: WalTuple | null, relationOid = USERS.oid): WalMessage => ({ tag: 'delete', relationOid, before });
const message = (prefix: string, content: string, transactional = true, lsn = LSN - 8n): WalMessage => ({ tag: 'message', transactional, lsn, prefix, content });

function harness(knownShapes?: ReadonlyMap<string, ColumnDef[]>) {
  const events: ChangeEvent[] = [];
  const notices: DecoderNotice[] = [];
  const decoder = new ChangeDecoder((event) => events.push(event), (notice) => notices.push(notice), knownShapes);
  const feed = (...messages: WalMessage[]): DecodeOutcome[] => messages.map((m) => decoder.decode(m));
  return { decoder, events, notices, feed };
}

const TX = (seq: number) => ({ xid: 731, lsn: '0/1796738', commitTime: COMMIT_TIME, seq });

describe('ChangeDecoder: row changes', () => {
  it('turns begin/relation/insert/update/delete/commit into events and outcomes', () => {
    const { events, feed, decoder } = harness();
    expect(decoder.inTransaction).toBe(false);
    const outcomes = feed(
      begin(),
      rel(USERS),
      insert({ id: '1', email: 'a@x', note: null }),
      update({ id: '1', email: 'a@x', note: null }, { id: '1', email: 'b@x', note: null }),
      del({ id: '1', email: 'b@x', note: null }),
    );
    expect(decoder.inTransaction).toBe(true);
    const end = decoder.decode(commit());
    expect(decoder.inTransaction).toBe(false);
    expect(outcomes).toEqual([{ kind: 'none' }, { kind: 'none' }, { kind: 'none' }, { kind: 'none' }, { kind: 'none' }]);
    expect(end).toEqual({ kind: 'commit', ackLsn: END_LSN, events: 3 });

    expect(events).toHaveLength(3);
    expect(events[0]).toStrictEqual({
      op: 'insert',
      schema: 'public',
      table: 'users',
      keyKind: 'primary-key',
      pk: { id: '1' },
      columns: [ID, EMAIL, NOTE],
      before: null,
      after: { id: '1', email: 'a@x', note: null },
      changed: [],
      id: '0000000001796738-0',
      tx: TX(0),
      actor: {},
    });
    expect(events[1]).toStrictEqual({
      op: 'update',
      schema: 'public',
      table: 'users',
      keyKind: 'primary-key',
      pk: { id: '1' },
      columns: [ID, EMAIL, NOTE],
      before: { id: '1', email: 'a@x', note: null },
      after: { id: '1', email: 'b@x', note: null },
      changed: ['email'],
      id: '0000000001796738-1',
      tx: TX(1),
      actor: {},
    });
    expect(events[2]).toStrictEqual({
      op: 'delete',
      schema: 'public',
      table: 'users',
      keyKind: 'primary-key',
      pk: { id: '1' },
      columns: [ID, EMAIL, NOTE],
      before: { id: '1', email: 'b@x', note: null },
      after: null,
      changed: [],
      id: '0000000001796738-2',
      tx: TX(2),
      actor: {},
    });
  });

  it('ids events by the 16-hex-digit commit LSN and seq, and spells tx.lsn as Postgres does', () => {
    const { events, feed } = harness();
    feed(begin(9, 0x16b374d848n, 0n), rel(USERS), insert({ id: '1' }), insert({ id: '2' }), commit(0x16b374d848n, 0x16b374d900n));
    expect(events.map((e) => e.id)).toEqual(['00000016B374D848-0', '00000016B374D848-1']);
    expect(events[1]!.tx).toEqual({ xid: 9, lsn: '16/B374D848', commitTime: '1970-01-01T00:00:00.000000Z', seq: 1 });
  });

  it('restarts seq at 0 in the next transaction', () => {
    const { events, feed } = harness();
    const outcomes = feed(
      begin(1, 0x100n),
      rel(USERS),
      insert({ id: '1' }),
      insert({ id: '2' }),
      commit(0x100n, 0x108n),
      begin(2, 0x200n, MICROS + 1n),
      insert({ id: '3' }),
      commit(0x200n, 0x208n),
    );
    expect(events.map((e) => [e.id, e.tx.xid, e.tx.seq, e.tx.commitTime])).toEqual([
      ['0000000000000100-0', 1, 0, COMMIT_TIME],
      ['0000000000000100-1', 1, 1, COMMIT_TIME],
      ['0000000000000200-0', 2, 0, '2023-11-14T22:13:20.123457Z'],
    ]);
    expect(outcomes[4]).toEqual({ kind: 'commit', ackLsn: 0x108n, events: 2 });
    expect(outcomes[7]).toEqual({ kind: 'commit', ackLsn: 0x208n, events: 1 });
  });

  it('reports an empty transaction as a commit of 0 events', () => {
    const { events, feed } = harness();
    expect(feed(begin(), commit())).toEqual([{ kind: 'none' }, { kind: 'commit', ackLsn: END_LSN, events: 0 }]);
    expect(events).toEqual([]);
  });

  it('keeps microsecond commit times', () => {
    const { events, feed } = harness();
    feed(begin(5, LSN, 1_715_000_000_000_001n), rel(USERS), insert({ id: '1' }), commit());
    expect(events[0]!.tx.commitTime).toBe('2024-05-06T12:53:20.000001Z');
  });

  it('takes pk from the primary key columns, in key order', () => {
    const shape = relation({ columns: [ID, EMAIL, NOTE], primaryKey: ['email', 'id'] });
    const { events, feed } = harness();
    feed(begin(), rel(shape), insert({ id: '1', email: 'a@x', note: 'n' }), commit());
    expect(events[0]!.pk).toStrictEqual({ email: 'a@x', id: '1' });
    expect(Object.keys(events[0]!.pk!)).toEqual(['email', 'id']);
  });

  it('uses the new key for an update and the old row for a delete', () => {
    const { events, feed } = harness();
    feed(
      begin(),
      rel(USERS),
      update({ id: '1', email: 'a', note: null }, { id: '2', email: 'a', note: null }),
      del({ id: '2', email: 'a', note: null }),
      commit(),
    );
    expect(events[0]!.pk).toEqual({ id: '2' });
    expect(events[0]!.changed).toEqual(['id']);
    expect(events[1]!.pk).toEqual({ id: '2' });
  });

  it('lists as changed only the columns whose text form differs, NULL included', () => {
    const { events, feed } = harness();
    feed(
      begin(),
      rel(USERS),
      update({ id: '1', email: 'a', note: null }, { id: '1', email: 'a', note: 'x' }),
      update({ id: '1', email: 'a', note: 'x' }, { id: '1', email: null, note: 'x' }),
      update({ id: '1', email: 'a', note: 'x' }, { id: '1', email: 'a', note: 'x' }),
      commit(),
    );
    expect(events.map((e) => e.changed)).toEqual([['note'], ['email'], []]);
  });

  it('lists every sent column as changed when the update has no old image', () => {
    const { events, feed } = harness();
    feed(begin(), rel(relation({ replicaIdentity: 'default' })), update(null, { id: '1', email: 'b', note: null }), commit());
    expect(events[0]!.before).toBeNull();
    expect(events[0]!.changed).toEqual(['id', 'email', 'note']);
    expect(events[0]!.pk).toEqual({ id: '1' });
  });

  it('omits unsent (unchanged TOAST) values instead of turning them into NULL', () => {
    const { events, feed } = harness();
    feed(
      begin(),
      rel(USERS),
      update({ id: '1', email: 'a', note: 'big' }, { id: '1', email: 'b', note: undefined }),
      insert({ id: '2', email: undefined, note: null }),
      commit(),
    );
    expect(events[0]!.after).toStrictEqual({ id: '1', email: 'b' });
    expect('note' in events[0]!.after!).toBe(false);
    expect(events[0]!.changed).toEqual(['email']);
    expect(events[1]!.after).toStrictEqual({ id: '2', note: null });
  });

  it('gives a delete without an old image a null pk', () => {
    const { events, feed } = harness();
    feed(begin(), rel(relation({ replicaIdentity: 'nothing' })), del(null), commit());
    expect(events[0]).toMatchObject({ op: 'delete', pk: null, before: null, after: null, keyKind: 'primary-key' });
  });

  it('fills a key column missing from a key-only image with null', () => {
    const { events, feed } = harness();
    feed(begin(), rel(relation({ primaryKey: ['id', 'email'], replicaIdentity: 'default' })), del({ id: '1', email: undefined, note: undefined }), commit());
    expect(events[0]!.pk).toStrictEqual({ id: '1', email: null });
    expect(events[0]!.before).toStrictEqual({ id: '1' });
  });

  it('throws for a row change of a relation it has not seen', () => {
    const { feed } = harness();
    feed(begin(), rel(USERS));
    expect(() => feed(insert({ id: '1' }, 999))).toThrow('row change for relation 999 arrived before its relation message');
    expect(() => feed(update(null, { id: '1' }, 999))).toThrow('relation 999');
    expect(() => feed(del({ id: '1' }, 999))).toThrow('relation 999');
    expect(() => feed({ tag: 'truncate', relationOids: [USERS.oid, 998], cascade: false, restartIdentity: false })).toThrow('relation 998');
  });

  it('throws for a row change outside a transaction', () => {
    const { feed } = harness();
    feed(rel(USERS));
    expect(() => feed(insert({ id: '1' }))).toThrow('insert on public.users arrived outside a transaction');
  });

  it('ignores messages it has no use for', () => {
    const { events, feed } = harness();
    expect(feed(begin(), { tag: 'ignored', what: 'type' }, commit())).toEqual([
      { kind: 'none' },
      { kind: 'none' },
      { kind: 'commit', ackLsn: END_LSN, events: 0 },
    ]);
    expect(events).toEqual([]);
  });
});

describe('ChangeDecoder: tables without a primary key or full identity', () => {
  it('keys a table without a primary key by the full row', () => {
    const { events, feed } = harness();
    feed(begin(), rel(LOGS), insert({ line: 'hello' }, LOGS.oid), del({ line: 'hello' }, LOGS.oid), commit());
    expect(events[0]).toMatchObject({ op: 'insert', table: 'logs', keyKind: 'full-row', pk: { line: 'hello' } });
    expect(events[1]).toMatchObject({ op: 'delete', table: 'logs', keyKind: 'full-row', pk: { line: 'hello' } });
  });

  it('notices a missing primary key once per table', () => {
    const { notices, feed } = harness();
    feed(begin(), rel(LOGS), insert({ line: 'a' }, LOGS.oid), commit(), begin(), rel(LOGS), insert({ line: 'b' }, LOGS.oid), commit());
    expect(notices).toEqual([{ code: 'NO_PRIMARY_KEY', message: 'table public.logs has no primary key: its entries are keyed by the full row' }]);
  });

  it('notices a replica identity other than FULL once per table', () => {
    const { notices, feed } = harness();
    const shape = relation({ replicaIdentity: 'default' });
    feed(begin(), rel(shape), rel(shape), commit(), rel(relation({ oid: 1, table: 'orders', replicaIdentity: 'index' })));
    expect(notices).toEqual([
      {
        code: 'NOT_FULL_IDENTITY',
        message:
          'table public.users has REPLICA IDENTITY DEFAULT: deletes and updates carry only the key, not the full row. Run `walaudit setup` or ALTER TABLE public.users REPLICA IDENTITY FULL',
      },
      {
        code: 'NOT_FULL_IDENTITY',
        message:
          'table public.orders has REPLICA IDENTITY INDEX: deletes and updates carry only the key, not the full row. Run `walaudit setup` or ALTER TABLE public.orders REPLICA IDENTITY FULL',
      },
    ]);
  });

  it('gives both notices for a table with neither', () => {
    const { notices, feed } = harness();
    feed(rel(relation({ primaryKey: [], replicaIdentity: 'nothing' })));
    expect(notices.map((n) => n.code)).toEqual(['NO_PRIMARY_KEY', 'NOT_FULL_IDENTITY']);
    expect(notices[1]!.message).toContain('REPLICA IDENTITY NOTHING');
  });

  it('notices nothing for a table with a primary key and full identity', () => {
    const { notices, feed } = harness();
    feed(begin(), rel(USERS), insert({ id: '1' }), commit());
    expect(notices).toEqual([]);
  });
});

describe('ChangeDecoder: context messages', () => {
  it('attaches the application context to the events that follow it in the transaction', () => {
    const { events, feed } = harness();
    feed(
      begin(),
      rel(USERS),
      insert({ id: '1' }),
      message('walaudit', '{"user":"alice","ip":"10.0.0.1","reason":"ticket 42","tenant":7}'),
      insert({ id: '2' }),
      commit(),
    );
    expect(events[0]!.actor).toEqual({});
    expect(events[1]!.actor).toStrictEqual({ app: { user: 'alice', ip: '10.0.0.1', reason: 'ticket 42', tenant: 7 } });
  });

  it('attaches the statement context as actor.db, next to the application context', () => {
    const { events, feed } = harness();
    const stmt = { user: 'postgres', ip: '192.168.1.5', applicationName: 'psql', statement: 'DELETE FROM users', backendPid: 4242 };
    feed(begin(), rel(USERS), message('walaudit.stmt', JSON.stringify(stmt)), del({ id: '1' }), message('walaudit', '{"user":"bob"}'), del({ id: '2' }), commit());
    expect(events[0]!.actor).toStrictEqual({ db: stmt });
    expect(events[1]!.actor).toStrictEqual({ db: stmt, app: { user: 'bob' } });
  });

  it('replaces a context with the next one of the same kind, leaving earlier events as they were', () => {
    const { events, feed } = harness();
    feed(
      begin(),
      rel(USERS),
      message('walaudit.stmt', '{"user":"u","ip":null,"applicationName":"a","statement":"DELETE 1"}'),
      del({ id: '1' }),
      message('walaudit.stmt', '{"user":"u","ip":null,"applicationName":"a","statement":"DELETE 2"}'),
      del({ id: '2' }),
      commit(),
    );
    expect(events[0]!.actor.db?.statement).toBe('DELETE 1');
    expect(events[1]!.actor.db?.statement).toBe('DELETE 2');
  });

  it('does not carry context into the next transaction', () => {
    const { events, feed } = harness();
    feed(begin(1), rel(USERS), message('walaudit', '{"user":"alice"}'), insert({ id: '1' }), commit(), begin(2), insert({ id: '2' }), commit());
    expect(events[0]!.actor).toEqual({ app: { user: 'alice' } });
    expect(events[1]!.actor).toStrictEqual({});
  });

  it('does not emit an event for a context message, nor count it', () => {
    const { events, feed } = harness();
    const outcomes = feed(begin(), message('walaudit', '{"user":"a"}'), message('walaudit.stmt', '{}'), commit());
    expect(events).toEqual([]);
    expect(outcomes[3]).toEqual({ kind: 'commit', ackLsn: END_LSN, events: 0 });
  });

  it.each(['not json', '[1,2]', 'null', '"text"', '42', ''])('keeps a malformed context %j verbatim and notices it', (content) => {
    const { events, notices, feed } = harness();
    feed(begin(), rel(USERS), message('walaudit', content), message('walaudit.stmt', content), insert({ id: '1' }), commit());
    expect(events[0]!.actor).toStrictEqual({ app: { malformed: content }, db: { malformed: content } });
    expect(notices).toEqual([
      { code: 'MALFORMED_CONTEXT', message: 'message with prefix "walaudit" is not a JSON object; kept verbatim as {"malformed": ...}' },
      { code: 'MALFORMED_CONTEXT', message: 'message with prefix "walaudit.stmt" is not a JSON object; kept verbatim as {"malformed": ...}' },
    ]);
  });

  it('ignores a non-transactional context message inside a transaction', () => {
    const { events, feed } = harness();
    feed(begin(), rel(USERS), message('walaudit', '{"user":"alice"}', false), insert({ id: '1' }), commit());
    expect(events[0]!.actor).toEqual({});
  });

  it('ignores a transactional message outside a transaction and other prefixes inside one', () => {
    const { events, feed, notices } = harness();
    const outcomes = feed(
      message('walaudit', '{"user":"x"}'),
      message('walaudit.action', '{"name":"x"}'),
      begin(),
      rel(USERS),
      message('other', '{"user":"x"}'),
      message('walaudit.heartbeat', ''),
      message('walaudit.unknown', 'zzz'),
      insert({ id: '1' }),
      commit(),
    );
    expect(outcomes.slice(0, 8).every((o) => o.kind === 'none')).toBe(true);
    expect(events).toHaveLength(1);
    expect(events[0]!.actor).toEqual({});
    expect(notices).toEqual([]);
  });
});

describe('ChangeDecoder: action messages', () => {
  it('turns a walaudit.action message into an action event', () => {
    const { events, feed } = harness();
    const outcomes = feed(
      begin(),
      message('walaudit', '{"user":"alice"}'),
      message('walaudit.action', '{"name":"export","table":"billing.invoices","key":{"id":"9","year":null},"rows":3,"format":"csv"}'),
      commit(),
    );
    expect(outcomes[3]).toEqual({ kind: 'commit', ackLsn: END_LSN, events: 1 });
    expect(events).toHaveLength(1);
    expect(events[0]).toStrictEqual({
      op: 'action',
      schema: 'billing',
      table: 'invoices',
      keyKind: 'primary-key',
      pk: { id: '9', year: null },
      columns: [],
      before: null,
      after: null,
      changed: [],
      action: { name: 'export', rows: 3, format: 'csv' },
      id: '0000000001796738-0',
      tx: TX(0),
      actor: { app: { user: 'alice' } },
    });
  });

  it('takes seq in line with the row changes around it', () => {
    const { events, feed } = harness();
    feed(begin(), rel(USERS), insert({ id: '1' }), message('walaudit.action', '{"name":"approve","table":"users"}'), insert({ id: '2' }), commit());
    expect(events.map((e) => [e.op, e.id])).toEqual([
      ['insert', '0000000001796738-0'],
      ['action', '0000000001796738-1'],
      ['insert', '0000000001796738-2'],
    ]);
    expect(events[1]).toMatchObject({ schema: 'public', table: 'users', pk: null, action: { name: 'approve' } });
  });

  it('names the action from `action` when `name` is missing, else "unnamed"', () => {
    const { events, feed } = harness();
    feed(begin(), message('walaudit.action', '{"action":"download"}'), message('walaudit.action', '{"name":5}'), commit());
    expect(events[0]!.action).toStrictEqual({ action: 'download', name: 'download' });
    expect(events[0]).toMatchObject({ schema: '', table: '', pk: null });
    expect(events[1]!.action).toStrictEqual({ name: 'unnamed' });
  });

  it('drops a key that is not a record of text values', () => {
    const { events, feed } = harness();
    feed(begin(), message('walaudit.action', '{"name":"a","key":{"id":9}}'), message('walaudit.action', '{"name":"b","key":["1"]}'), commit());
    expect(events.map((e) => e.pk)).toEqual([null, null]);
  });

  it('keeps a malformed action verbatim', () => {
    const { events, notices, feed } = harness();
    feed(begin(), message('walaudit.action', 'approve!'), commit());
    expect(events[0]!.action).toStrictEqual({ malformed: 'approve!', name: 'unnamed' });
    expect(notices.map((n) => n.code)).toEqual(['MALFORMED_CONTEXT']);
  });
});

describe('ChangeDecoder: heartbeats', () => {
  it('reports a non-transactional heartbeat outside a transaction with its LSN', () => {
    const { events, feed } = harness();
    expect(feed(message('walaudit.heartbeat', '', false, 0x5000n))).toEqual([{ kind: 'heartbeat', ackLsn: 0x5000n }]);
    expect(events).toEqual([]);
  });

  it('ignores a heartbeat inside a transaction, and other non-transactional messages', () => {
    const { feed } = harness();
    expect(feed(message('walaudit', '{}', false), begin(), message('walaudit.heartbeat', '', false), commit())).toEqual([
      { kind: 'none' },
      { kind: 'none' },
      { kind: 'none' },
      { kind: 'commit', ackLsn: END_LSN, events: 0 },
    ]);
  });
});

describe('ChangeDecoder: schema changes', () => {
  const WITH_PHONE = relation({ columns: [ID, EMAIL, NOTE, { name: 'phone', type: 'text', typeOid: 25 }] });

  it('emits nothing on the first sight of a relation, nor when it is re-sent unchanged', () => {
    const { events, feed } = harness();
    feed(begin(), rel(USERS), rel(relation()), insert({ id: '1' }), commit());
    expect(events.map((e) => e.op)).toEqual(['insert']);
  });

  it('emits a schema event when the shape changes mid-stream', () => {
    const { events, feed } = harness();
    const outcomes = feed(begin(), rel(USERS), insert({ id: '1' }), commit(), begin(2, 0x2000000n), rel(WITH_PHONE), insert({ id: '2', phone: '555' }), commit());
    expect(outcomes[7]).toEqual({ kind: 'commit', ackLsn: END_LSN, events: 2 });
    expect(events).toHaveLength(3);
    expect(events[1]).toStrictEqual({
      op: 'schema',
      schema: 'public',
      table: 'users',
      keyKind: 'primary-key',
      pk: null,
      columns: WITH_PHONE.columns,
      before: null,
      after: null,
      changed: ['phone'],
      schemaChange: { oldColumns: [ID, EMAIL, NOTE], newColumns: WITH_PHONE.columns },
      id: '0000000002000000-0',
      tx: { xid: 2, lsn: '0/2000000', commitTime: COMMIT_TIME, seq: 0 },
      actor: {},
    });
    expect(events[2]).toMatchObject({ op: 'insert', id: '0000000002000000-1', columns: WITH_PHONE.columns, after: { id: '2', phone: '555' } });
  });

  it('lists dropped, retyped and renamed columns as changed', () => {
    const { events, feed } = harness();
    const next = relation({ columns: [{ name: 'id', type: 'int4', typeOid: 23 }, { name: 'mail', type: 'text', typeOid: 25 }] });
    feed(begin(), rel(USERS), rel(next), commit());
    expect(events).toHaveLength(1);
    expect(events[0]!.changed).toEqual(['id', 'email', 'note', 'mail']);
  });

  it('treats a column reorder as a schema change', () => {
    const { events, feed } = harness();
    feed(begin(), rel(USERS), rel(relation({ columns: [ID, NOTE, EMAIL] })), commit());
    expect(events.map((e) => e.op)).toEqual(['schema']);
    expect(events[0]!.changed).toEqual([]);
  });

  it('tracks shapes by schema.table, not by oid', () => {
    const { events, feed } = harness();
    feed(begin(), rel(USERS), rel({ ...WITH_PHONE, oid: 99999 }), commit());
    expect(events.map((e) => e.op)).toEqual(['schema']);
  });

  it('compares the first sight against the shapes it was constructed with', () => {
    const known = new Map([['public.users', [ID, EMAIL]]]);
    const { events, feed } = harness(known);
    feed(begin(), rel(USERS), insert({ id: '1' }), commit());
    expect(events.map((e) => e.op)).toEqual(['schema', 'insert']);
    expect(events[0]!.schemaChange).toStrictEqual({ oldColumns: [ID, EMAIL], newColumns: [ID, EMAIL, NOTE] });
    expect(events[0]!.changed).toEqual(['note']);
    // the caller's map is not modified
    expect(known.get('public.users')).toEqual([ID, EMAIL]);
  });

  it('emits nothing when the known shape matches (a restart)', () => {
    const { events, feed } = harness(new Map([['public.users', [{ ...ID }, { ...EMAIL }, { ...NOTE }]]]));
    feed(begin(), rel(USERS), insert({ id: '1' }), commit());
    expect(events.map((e) => e.op)).toEqual(['insert']);
  });

  it('does not throw for a changed relation outside a transaction', () => {
    // pgoutput sends relations inside a transaction; a schema entry needs one for its id and tx.
    const { feed } = harness();
    feed(begin(), rel(USERS), commit());
    expect(() => feed(rel(WITH_PHONE))).not.toThrow();
  });

  it('compares columns by name and type oid only', () => {
    const { events, feed } = harness(new Map([['public.users', [{ ...ID, type: 'bigint' }, EMAIL, NOTE]]]));
    feed(begin(), rel(USERS), commit());
    expect(events).toEqual([]);
  });
});

describe('ChangeDecoder: truncate', () => {
  it('emits one event per truncated relation', () => {
    const { events, feed } = harness();
    const outcomes = feed(
      begin(),
      rel(USERS),
      rel(LOGS),
      { tag: 'truncate', relationOids: [USERS.oid, LOGS.oid], cascade: true, restartIdentity: false },
      commit(),
    );
    expect(outcomes[4]).toEqual({ kind: 'commit', ackLsn: END_LSN, events: 2 });
    expect(events).toStrictEqual([
      {
        op: 'truncate',
        schema: 'public',
        table: 'users',
        keyKind: 'primary-key',
        pk: null,
        columns: USERS.columns,
        before: null,
        after: null,
        changed: [],
        id: '0000000001796738-0',
        tx: TX(0),
        actor: {},
      },
      {
        op: 'truncate',
        schema: 'public',
        table: 'logs',
        keyKind: 'primary-key',
        pk: null,
        columns: LOGS.columns,
        before: null,
        after: null,
        changed: [],
        id: '0000000001796738-1',
        tx: TX(1),
        actor: {},
      },
    ]);
  });
});

describe('ChangeDecoder: truncate of one partition (publish_via_partition_root)', () => {
  const marker = (table: string) => message('walaudit.truncate', JSON.stringify({ schema: 'public', table, rootSchema: 'public', rootTable: 'users' }));
  const truncate = (relationOids: number[]): WalMessage => ({ tag: 'truncate', relationOids, cascade: false, restartIdentity: false });

  it('records a marker as a truncate of the partition when pgoutput sends none, in order', () => {
    const { events, feed } = harness();
    feed(begin(), rel(USERS), message('walaudit.stmt', '{"statement":"TRUNCATE users_eu"}'), marker('users_eu'), insert({ id: '1', email: null, note: null }), commit());
    expect(events.map((e) => `${e.op} ${e.table} ${e.tx.seq}`)).toEqual(['truncate users_eu 0', 'insert users 1']);
    expect(events[0]).toMatchObject({ schema: 'public', columns: [ID, EMAIL, NOTE], actor: { db: { statement: 'TRUNCATE users_eu' } } });
  });

  it('records a marker still held at commit', () => {
    const { events, feed } = harness();
    const [, , end] = feed(begin(), marker('users_eu'), commit());
    expect(events.map((e) => `${e.op} ${e.table}`)).toEqual(['truncate users_eu']);
    expect(end).toMatchObject({ kind: 'commit', events: 1 });
  });

  it('drops the markers that pgoutput truncate of the root records, keeps the others', () => {
    const { events, feed } = harness();
    feed(begin(), marker('users_eu'), marker('users_us'), rel(USERS), truncate([USERS.oid]), commit());
    expect(events.map((e) => `${e.op} ${e.table}`)).toEqual(['truncate users']);
    const other = harness();
    other.feed(begin(), marker('users_eu'), rel(LOGS), truncate([LOGS.oid]), commit());
    expect(other.events.map((e) => `${e.op} ${e.table}`)).toEqual(['truncate users_eu', 'truncate logs']);
  });

  it('ignores a marker that is not one, with a notice when it is not JSON', () => {
    const { events, notices, feed } = harness();
    feed(begin(), message('walaudit.truncate', '{"table": 1}'), message('walaudit.truncate', 'nope'), commit());
    expect(events).toEqual([]);
    expect(notices.map((n) => n.code)).toEqual(['MALFORMED_CONTEXT']);
  });
});
