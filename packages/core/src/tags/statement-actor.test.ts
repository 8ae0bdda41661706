import { describe, expect, it } from 'vitest';
import { ChangeDecoder, type DecoderNotice } from '../change-decoder.js';
import type { ChangeEvent } from '../change-event.types.js';
import { canonicalJson } from '../canonical-json.js';
import { encodeEntryBody, hashedBody } from '../entry-encoding.js';
import type { RelationShape, WalMessage } from '../wal-message.types.js';
import { DEFAULT_ACTOR_TAG_OPTIONS, type ActorTagOptions } from './actor-config.schema.js';

const USERS: RelationShape = {
  oid: 16384,
  schema: 'public',
  table: 'users',
  columns: [{ name: 'id', type: 'bigint', typeOid: 20 }],
  primaryKey: ['id'],
  replicaIdentity: 'full',
};
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

const begin: WalMessage = { tag: 'begin', xid: 900, commitLsn: 0x2000n, commitTimeMicros: 1_700_000_000_000_000n };
const commit: WalMessage = { tag: 'commit', commitLsn: 0x2000n, commitEndLsn: 0x2010n };
const del = (id: string): WalMessage => ({ tag: 'delete', relationOid: USERS.oid, before: { id } });
const stmt = (statement: string, extra: Record<string, unknown> = {}): WalMessage => ({
  tag: 'message',
  transactional: true,
  lsn: 0x1ff0n,
  prefix: 'walaudit.stmt',
  content: JSON.stringify({ user: 'app', ip: '10.0.0.5', applicationName: 'pgbouncer', statement, backendPid: 42, ...extra }),
});
const appContext = (content: object): WalMessage => ({ tag: 'message', transactional: true, lsn: 0x1ff0n, prefix: 'walaudit', content: JSON.stringify(content) });

function decode(messages: WalMessage[], options: Partial<ActorTagOptions> = {}) {
  const events: ChangeEvent[] = [];
  const notices: DecoderNotice[] = [];
  const decoder = new ChangeDecoder((event) => events.push(event), (notice) => notices.push(notice), new Map(), { ...DEFAULT_ACTOR_TAG_OPTIONS, ...options });
  for (const message of [begin, { tag: 'relation', relation: USERS } as WalMessage, ...messages, commit]) decoder.decode(message);
  return { events, notices };
}

describe('statement tags in the decoder', () => {
  it('gives each statement its own tags and trace, never the previous statement’s', () => {
    const { events } = decode([
      stmt(`DELETE FROM users WHERE id = 1 /*route='%2Fusers',traceparent='${TRACEPARENT}'*/`),
      del('1'),
      stmt('DELETE FROM users WHERE id = 2'),
      del('2'),
    ]);
    expect(events[0]!.actor).toMatchObject({
      tags: { route: '/users', traceparent: TRACEPARENT },
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
    });
    expect(events[1]!.actor).toEqual({ db: expect.objectContaining({ statement: 'DELETE FROM users WHERE id = 2' }) });
  });

  it('leaves the actor, and so the hashed body, exactly as before when there is no comment', () => {
    const { events } = decode([appContext({ user: 'alice' }), stmt('DELETE FROM users WHERE id = 1'), del('1')]);
    const actor = events[0]!.actor;
    expect(Object.keys(actor).sort()).toEqual(['app', 'db']);
    expect(encodeEntryBody(events[0]!)).toBe(canonicalJson(hashedBody(events[0]!)));
    expect(encodeEntryBody(events[0]!)).toContain('"actor":{"app":{"user":"alice"},"db":{"applicationName":"pgbouncer","backendPid":42,"ip":"10.0.0.5","statement":"DELETE FROM users WHERE id = 1","user":"app"}}');
  });

  it('encodes tags in the canonical form', () => {
    const { events } = decode([stmt("DELETE FROM users /*z='1',a='2'*/"), del('1')]);
    expect(encodeEntryBody(events[0]!)).toBe(canonicalJson(hashedBody(events[0]!)));
    expect(encodeEntryBody(events[0]!)).toContain(',"tags":{"a":"2","z":"1"}}');
  });

  it('maps a tag to the app user: withAuditContext > tag mapping > none', () => {
    const options = { appUserFromTags: ['user', 'db_user_override'] };
    const tagged = "DELETE FROM users WHERE id = 1 /*db_user_override='bob',user='carol'*/";
    expect(decode([stmt(tagged), del('1')], options).events[0]!.actor.app).toEqual({ user: 'carol', userFromTag: 'user' });
    expect(decode([stmt("DELETE FROM users /*db_user_override='bob'*/"), del('1')], options).events[0]!.actor.app).toEqual({ user: 'bob', userFromTag: 'db_user_override' });
    // withAuditContext names the user: it wins, whether it comes before or after the statement.
    expect(decode([appContext({ user: 'alice' }), stmt(tagged), del('1')], options).events[0]!.actor.app).toEqual({ user: 'alice' });
    expect(decode([stmt(tagged), appContext({ user: 'alice', reason: 'x' }), del('1')], options).events[0]!.actor.app).toEqual({ user: 'alice', reason: 'x' });
    // withAuditContext without a user keeps its other keys and gains the tag's user.
    expect(decode([appContext({ reason: 'cleanup' }), stmt(tagged), del('1')], options).events[0]!.actor.app).toEqual({ reason: 'cleanup', user: 'carol', userFromTag: 'user' });
    // No mapping configured, or no mapped tag: no app user.
    expect(decode([stmt(tagged), del('1')]).events[0]!.actor.app).toBeUndefined();
    expect(decode([stmt("DELETE FROM users /*route='x'*/"), del('1')], options).events[0]!.actor.app).toBeUndefined();
  });

  it('reads the recorded end of a long statement, and reports a refused comment once', () => {
    const { events, notices } = decode([
      stmt(`DELETE FROM users WHERE id IN (${'1,'.repeat(2100)}`, { statementEnd: "1,1) /*user='dave'*/" }),
      del('1'),
      stmt("DELETE FROM users WHERE id = 2; DELETE FROM users WHERE id = 3 /*user='eve'*/"),
      del('2'),
      stmt("DELETE FROM users WHERE id = 4; DELETE FROM users WHERE id = 5 /*user='eve'*/"),
      del('4'),
    ]);
    expect(events[0]!.actor.tags).toEqual({ user: 'dave' });
    expect(events[1]!.actor.tags).toBeUndefined();
    expect(notices.filter((n) => n.code === 'TAGS_IGNORED')).toHaveLength(1);
  });

  it('keeps the pipeline going on a statement context that is not JSON', () => {
    const { events } = decode([{ tag: 'message', transactional: true, lsn: 0x1ff0n, prefix: 'walaudit.stmt', content: "/*user='x'*/" }, del('1')]);
    expect(events[0]!.actor).toEqual({ db: { malformed: "/*user='x'*/" } });
  });
});
