import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AuditEntry, ChangeEvent } from './change-event.types.js';
import { canonicalJson } from './canonical-json.js';
import { eventId } from './event-id.js';
import {
  ChainVerifier,
  chainHash,
  GENESIS_HASH,
  linkEachIntoChains,
  type ChainProblem,
  type StoredChainLink,
} from './hash-chain.js';
import { encodeEntryBody, hashedBody } from './entry-encoding.js';
import { linkedEntries } from '../../../test/support/linked-entries.js';

function event(seq: number, overrides: Partial<ChangeEvent> = {}): ChangeEvent {
  return {
    id: eventId(0x1796738n, seq),
    op: 'update',
    schema: 'public',
    table: 'accounts',
    keyKind: 'primary-key',
    pk: { id: String(seq) },
    columns: [
      { name: 'id', type: 'int8', typeOid: 20 },
      { name: 'balance', type: 'numeric', typeOid: 1700 },
    ],
    before: { id: String(seq), balance: '10.00' },
    after: { id: String(seq), balance: '12.50' },
    changed: ['balance'],
    tx: { xid: 731, lsn: '0/1796738', commitTime: '2024-05-06T07:08:09.123456Z', seq },
    actor: { app: { user: 'alice', ip: '10.0.0.1' } },
    ...overrides,
  };
}

/** Each event in a chain of its own (retention 30, 31, ...), every other one critical. */
function audited(events: ChangeEvent[]) {
  return events.map((e, i) => ({ event: e, retentionDays: 30 + i, critical: i % 2 === 1 }));
}

/** All events in one chain, as the rules of one table put them. */
function oneChain(events: ChangeEvent[], retentionDays = 0) {
  return events.map((e) => ({ event: e, retentionDays, critical: false }));
}

/** The links a store would hand back for these entries. */
function chain(count: number, prevHash = GENESIS_HASH): StoredChainLink[] {
  const events = Array.from({ length: count }, (_, seq) => event(seq));
  const { entries, bodies } = linkedEntries(new Map([[0, prevHash]]), oneChain(events));
  return entries.map((entry, i) => ({ chain: 0, id: entry.id, prevHash: entry.prevHash, hash: entry.hash, body: bodies[i]! }));
}

function verify(links: readonly StoredChainLink[]): { problems: (ChainProblem | null)[]; verifier: ChainVerifier } {
  const verifier = new ChainVerifier();
  return { problems: links.map((link) => verifier.push(link)), verifier };
}

function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe('chainHash', () => {
  it('is hex(sha256(prevHash as ASCII || body as UTF-8))', () => {
    const body = '{"a":"Grüße 😀","b":1}';
    const prev = 'ab'.repeat(32);
    const expected = sha256Hex(Buffer.concat([Buffer.from(prev, 'ascii'), Buffer.from(body, 'utf8')]));
    expect(chainHash(prev, body)).toBe(expected);
    expect(chainHash(prev, body)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('matches the published SHA-256 test vector when split across prevHash and body', () => {
    // FIPS 180-2: SHA-256("abc")
    const abc = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    expect(chainHash('a', 'bc')).toBe(abc);
    expect(chainHash('', 'abc')).toBe(abc);
  });

  it('pins the hash of an empty body after the genesis hash', () => {
    expect(chainHash(GENESIS_HASH, '{}')).toBe('5508d2b710e64bc470079e1b211d9c58e21011e59d0559e422345dc19d659a75');
  });

  it('encodes the body as UTF-8, not Latin-1 or UTF-16', () => {
    const body = '{"name":"é"}';
    expect(chainHash(GENESIS_HASH, body)).toBe(sha256Hex(Buffer.from(GENESIS_HASH + body, 'utf8')));
    expect(chainHash(GENESIS_HASH, body)).not.toBe(sha256Hex(Buffer.from(GENESIS_HASH + body, 'latin1')));
    expect(chainHash(GENESIS_HASH, body)).not.toBe(sha256Hex(Buffer.from(GENESIS_HASH + body, 'utf16le')));
  });

  it('depends on the previous hash', () => {
    expect(chainHash(GENESIS_HASH, '{}')).not.toBe(chainHash('1'.repeat(64), '{}'));
  });
});

describe('GENESIS_HASH', () => {
  it('is 64 zeros', () => {
    expect(GENESIS_HASH).toBe('0000000000000000000000000000000000000000000000000000000000000000');
  });
});

describe('hashedBody and encodeEntryBody', () => {
  it('covers the change event, not the chain or store fields', () => {
    const e = event(0);
    const entry: AuditEntry = { ...e, prevHash: GENESIS_HASH, hash: 'f'.repeat(64), retentionDays: 7, critical: true };
    expect(hashedBody(entry)).toEqual(e);
    expect(Object.keys(hashedBody(entry))).not.toContain('prevHash');
    expect(Object.keys(hashedBody(entry))).not.toContain('retentionDays');
    expect(encodeEntryBody(entry)).toBe(encodeEntryBody(e));
  });

  it('encodes a pinned canonical body (action and schemaChange omitted when absent)', () => {
    const e = event(0, { columns: [{ name: 'id', type: 'int8', typeOid: 20 }], before: null, after: { id: '0' }, op: 'insert', changed: [], actor: {} });
    expect(encodeEntryBody(e)).toBe(
      '{"actor":{},"after":{"id":"0"},"before":null,"changed":[],"columns":[{"name":"id","type":"int8","typeOid":20}],' +
        '"id":"0000000001796738-0","keyKind":"primary-key","op":"insert","pk":{"id":"0"},"schema":"public","table":"accounts",' +
        '"tx":{"commitTime":"2024-05-06T07:08:09.123456Z","lsn":"0/1796738","seq":0,"xid":731}}',
    );
  });

  it('includes action and schemaChange when present', () => {
    const body = encodeEntryBody(event(0, { op: 'action', action: { name: 'export', rows: 3 }, schemaChange: { oldColumns: null, newColumns: [] } }));
    expect(body).toContain('"action":{"name":"export","rows":3}');
    expect(body).toContain('"schemaChange":{"newColumns":[],"oldColumns":null}');
  });

  it('ignores fields a store may add that are not part of the event', () => {
    const withExtra = { ...event(1), storedAt: '2024-01-01', hash: 'x' } as ChangeEvent;
    expect(encodeEntryBody(withExtra)).toBe(encodeEntryBody(event(1)));
  });
});

describe('linkEachIntoChains', () => {
  it('links each entry to the previous one of its chain, starting from the chain\'s head', () => {
    const events = [event(0), event(1), event(2)];
    const start = 'a'.repeat(64);
    const { entries, bodies, heads } = linkedEntries(new Map([[0, start]]), oneChain(events));
    expect(entries).toHaveLength(3);
    expect(bodies).toEqual(events.map(encodeEntryBody));
    expect(entries[0]!.prevHash).toBe(start);
    expect(entries[0]!.hash).toBe(chainHash(start, bodies[0]!));
    expect(entries[1]!.prevHash).toBe(entries[0]!.hash);
    expect(entries[1]!.hash).toBe(chainHash(entries[0]!.hash, bodies[1]!));
    expect(entries[2]!.prevHash).toBe(entries[1]!.hash);
    expect(entries[2]!.hash).toBe(chainHash(entries[1]!.hash, bodies[2]!));
    expect(heads).toEqual(new Map([[0, entries[2]!.hash]]));
  });

  it('hands each entry and its body over as soon as it is linked, in the order given', () => {
    const taken: string[] = [];
    linkEachIntoChains(new Map(), audited([event(0), event(1)]), (entry, body) => taken.push(`${entry.id} ${body === encodeEntryBody(entry) ? 'body' : 'other'}`));
    expect(taken).toEqual(['0000000001796738-0 body', '0000000001796738-1 body']);
  });

  it('carries the event and the store fields onto each entry', () => {
    const { entries } = linkedEntries(new Map(), audited([event(0), event(1)]));
    expect(entries[0]).toEqual({ ...event(0), prevHash: GENESIS_HASH, hash: entries[0]!.hash, retentionDays: 30, critical: false });
    expect(entries[1]).toMatchObject({ id: '0000000001796738-1', retentionDays: 31, critical: true });
  });

  it('continues a chain across batches exactly as one batch would', () => {
    const all = linkedEntries(new Map(), oneChain([event(0), event(1), event(2)]));
    const first = linkedEntries(new Map(), oneChain([event(0)]));
    const rest = linkedEntries(first.heads, oneChain([event(1), event(2)]));
    expect(rest.heads).toEqual(all.heads);
    expect([...first.entries, ...rest.entries].map((e) => e.hash)).toEqual(all.entries.map((e) => e.hash));
  });

  it('returns the heads as they were for an empty batch', () => {
    expect(linkedEntries(new Map([[0, 'a'.repeat(64)]]), [])).toEqual({ entries: [], bodies: [], heads: new Map([[0, 'a'.repeat(64)]]) });
  });

  it('does not hash retentionDays or critical', () => {
    const a = linkedEntries(new Map(), [{ event: event(0), retentionDays: 0, critical: false }]);
    const b = linkedEntries(new Map(), [{ event: event(0), retentionDays: 365, critical: true }]);
    expect(a.entries[0]!.hash).toBe(b.entries[0]!.hash);
  });

  it('links each retention period into its own chain, starting from the given heads', () => {
    const events = [event(0), event(1), event(2), event(3)];
    const heads = new Map([[30, 'a'.repeat(64)]]);
    const { entries, bodies, heads: next } = linkedEntries(heads, [
      { event: events[0]!, retentionDays: 30, critical: false },
      { event: events[1]!, retentionDays: 0, critical: false },
      { event: events[2]!, retentionDays: 30, critical: true },
      { event: events[3]!, retentionDays: 0, critical: false },
    ]);
    expect(entries.map((e) => e.prevHash)).toEqual(['a'.repeat(64), GENESIS_HASH, entries[0]!.hash, entries[1]!.hash]);
    expect(entries[2]!.hash).toBe(chainHash(entries[0]!.hash, bodies[2]!));
    expect(next).toEqual(new Map([[30, entries[2]!.hash], [0, entries[3]!.hash]]));
    expect(heads).toEqual(new Map([[30, 'a'.repeat(64)]]));
  });
});

describe('ChainVerifier', () => {
  it('accepts a chain built by linkEachIntoChains', () => {
    const links = chain(5);
    const { problems, verifier } = verify(links);
    expect(problems).toEqual([null, null, null, null, null]);
    expect(verifier.entriesChecked).toBe(5);
    expect(verifier.headHash).toBe(links[4]!.hash);
  });

  it('starts empty', () => {
    const verifier = new ChainVerifier();
    expect(verifier.entriesChecked).toBe(0);
    expect(verifier.headHash).toBeNull();
  });

  it('trusts the first entry present as the start (older entries purged by retention)', () => {
    const links = chain(6);
    const { problems, verifier } = verify(links.slice(3));
    expect(problems).toEqual([null, null, null]);
    expect(verifier.entriesChecked).toBe(3);
    expect(verifier.headHash).toBe(links[5]!.hash);
  });

  it('detects an altered body and names the entry', () => {
    const links = chain(4);
    const tampered = links.map((link, i) => (i === 2 ? { ...link, body: link.body.replace('"12.50"', '"99.99"') } : link));
    expect(tampered[2]!.body).not.toBe(links[2]!.body);
    const { problems, verifier } = verify(tampered);
    expect(problems.slice(0, 2)).toEqual([null, null]);
    const recomputed = chainHash(links[2]!.prevHash, tampered[2]!.body);
    expect(problems[2]).toEqual({
      kind: 'altered',
      id: '0000000001796738-2',
      index: 2,
      detail: `content hashes to ${recomputed}, entry says ${links[2]!.hash}`,
    });
    expect(verifier.entriesChecked).toBe(2);
    expect(verifier.headHash).toBe(links[1]!.hash);
  });

  it('detects an altered stored hash', () => {
    const links = chain(3);
    const tampered = links.map((link, i) => (i === 0 ? { ...link, hash: 'f'.repeat(64) } : link));
    expect(verify(tampered).problems[0]).toMatchObject({ kind: 'altered', index: 0, id: '0000000001796738-0' });
  });

  it('detects an altered body whose hash was recomputed, at the next entry', () => {
    const links = chain(4);
    const body = links[1]!.body.replace('alice', 'mallory');
    const rehashed = { ...links[1]!, body, hash: chainHash(links[1]!.prevHash, body) };
    const { problems } = verify([links[0]!, rehashed, links[2]!, links[3]!]);
    expect(problems[1]).toBeNull();
    expect(problems[2]).toEqual({
      kind: 'removed-or-inserted',
      id: '0000000001796738-2',
      index: 2,
      detail: `prevHash ${links[2]!.prevHash} does not match the previous entry 0000000001796738-1 (hash ${rehashed.hash})`,
    });
  });

  it('detects a removed entry at the entry after the gap', () => {
    const links = chain(5);
    const { problems, verifier } = verify([links[0]!, links[1]!, links[3]!, links[4]!]);
    expect(problems.slice(0, 2)).toEqual([null, null]);
    expect(problems[2]).toEqual({
      kind: 'removed-or-inserted',
      id: '0000000001796738-3',
      index: 2,
      detail: `prevHash ${links[2]!.hash} does not match the previous entry 0000000001796738-1 (hash ${links[1]!.hash})`,
    });
    expect(verifier.entriesChecked).toBe(2);
  });

  it('detects a removed last-but-one entry and a removed second entry', () => {
    const links = chain(3);
    expect(verify([links[0]!, links[2]!]).problems[1]).toMatchObject({ kind: 'removed-or-inserted', index: 1, id: '0000000001796738-2' });
  });

  it('detects an inserted entry, even one that links to its predecessor', () => {
    const links = chain(4);
    const forgedBody = encodeEntryBody(event(99, { op: 'delete' }));
    const forged: StoredChainLink = {
      chain: 0,
      id: eventId(0x1796738n, 99),
      prevHash: links[1]!.hash,
      hash: chainHash(links[1]!.hash, forgedBody),
      body: forgedBody,
    };
    const { problems } = verify([links[0]!, links[1]!, forged, links[2]!, links[3]!]);
    expect(problems.slice(0, 3)).toEqual([null, null, null]);
    expect(problems[3]).toEqual({
      kind: 'removed-or-inserted',
      id: '0000000001796738-2',
      index: 3,
      detail: `prevHash ${links[1]!.hash} does not match the previous entry 0000000001796738-99 (hash ${forged.hash})`,
    });
  });

  it('detects an inserted entry that does not link', () => {
    const links = chain(3);
    const forgedBody = encodeEntryBody(event(99));
    const forged = { chain: 0, id: 'x-1', prevHash: GENESIS_HASH, hash: chainHash(GENESIS_HASH, forgedBody), body: forgedBody };
    expect(verify([links[0]!, forged, links[1]!]).problems[1]).toMatchObject({ kind: 'removed-or-inserted', id: 'x-1', index: 1 });
  });

  it('detects swapped entries', () => {
    const links = chain(4);
    const { problems } = verify([links[0]!, links[2]!, links[1]!, links[3]!]);
    expect(problems[1]).toMatchObject({ kind: 'removed-or-inserted', index: 1, id: '0000000001796738-2' });
  });

  it('reports a second entry with the same id and a different hash', () => {
    const links = chain(3);
    const otherBody = links[1]!.body.replace('"12.50"', '"0.00"');
    const twin: StoredChainLink = { ...links[1]!, body: otherBody, hash: chainHash(links[1]!.prevHash, otherBody) };
    const { problems, verifier } = verify([links[0]!, links[1]!, twin]);
    expect(problems).toEqual([
      null,
      null,
      { kind: 'duplicate-id', id: '0000000001796738-1', index: 2, detail: 'a second entry with this id and a different hash' },
    ]);
    expect(verifier.entriesChecked).toBe(2);
    expect(verifier.headHash).toBe(links[1]!.hash);
  });

  it('tolerates an exact duplicate (a replayed insert) and goes on', () => {
    const links = chain(3);
    const { problems, verifier } = verify([links[0]!, links[1]!, { ...links[1]! }, links[2]!]);
    expect(problems).toEqual([null, null, null, null]);
    expect(verifier.entriesChecked).toBe(3);
    expect(verifier.headHash).toBe(links[2]!.hash);
  });

  it('counts the position of a problem after an exact duplicate in log order', () => {
    const links = chain(4);
    const { problems } = verify([links[0]!, links[0]!, links[1]!, links[3]!]);
    expect(problems[3]).toMatchObject({ kind: 'removed-or-inserted', index: 3, id: '0000000001796738-3' });
  });

  it('does not accept a copy with the same id and hash but an altered body', () => {
    // A second row with the entry's id and hash but other content is not an exact duplicate:
    // a reader that picks either copy could show the altered one.
    const links = chain(3);
    const copy = { ...links[1]!, body: links[1]!.body.replace('alice', 'mallory') };
    const { problems } = verify([links[0]!, links[1]!, copy, links[2]!]);
    expect(problems[2]).toMatchObject({ kind: 'altered', id: '0000000001796738-1', index: 2 });
  });
});

describe('encodeEntryBody is the canonical encoding of the hashed body', () => {
  const variants: [string, ChangeEvent][] = [
    ['an update', event(3)],
    ['a delete with NULLs and unicode column names', event(4, { op: 'delete', after: null, before: { 'naïve': null, Z: 'z', a: 'ü "q" \\ \n', '10': 'x', '2': 'y' }, pk: { 'naïve': null } })],
    ['an unsent column (undefined) is omitted', event(5, { after: { id: '5', big: undefined as unknown as string } })],
    ['an action', event(6, { op: 'action', columns: [], pk: null, before: null, after: null, action: { name: 'export', rows: 3, nested: { b: 1, a: [true, null] } } })],
    ['a schema change', event(7, { op: 'schema', pk: null, before: null, after: null, changed: ['note'], schemaChange: { oldColumns: null, newColumns: [{ name: 'note', type: 'text', typeOid: 25 }] } })],
    ['an app and db actor', event(8, { actor: { app: { user: 'a', reason: 'r', extra: { z: 1, y: 2 } }, db: { user: 'bob', ip: null, applicationName: 'psql', statement: 'DELETE\tFROM t', backendPid: 9 } } })],
  ];
  it.each(variants)('%s', (_name, e) => {
    expect(encodeEntryBody(e)).toBe(canonicalJson(hashedBody(e)));
  });

  it('does not reuse a stale encoding for a different but equal-looking actor object', () => {
    const shared = { app: { user: 'first' } };
    const a = encodeEntryBody(event(1, { actor: shared }));
    const b = encodeEntryBody(event(1, { actor: { app: { user: 'second' } } }));
    expect(a).not.toBe(b);
    expect(b).toContain('"second"');
  });
});
