import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvRecord, eventId, type AuditEntry, type ChangeEvent } from '@walaudit/core';
import type { ClickHouseStores } from '@walaudit/clickhouse';
import { audited } from '../support/change-events.js';
import { linkedEntries } from '../support/linked-entries.js';
import { embeddedStores } from '../support/pipeline-harness.js';

const columns = [
  { name: 'id', type: 'int4', typeOid: 23 },
  { name: 'note', type: 'text', typeOid: 25 },
];

/** Transaction `n` (one entry), an insert into notes unless told otherwise. */
function change(n: number, overrides: Partial<ChangeEvent> = {}): ChangeEvent {
  const lsn = BigInt(0x1000000 + n * 0x100);
  return {
    id: eventId(lsn, 0),
    op: 'insert',
    schema: 'public',
    table: n % 2 === 0 ? 'notes' : 'files',
    keyKind: 'primary-key',
    pk: { id: String(n) },
    columns,
    before: null,
    after: { id: String(n), note: `note ${n}` },
    changed: [],
    tx: { xid: 700 + n, lsn: `0/${lsn.toString(16).toUpperCase()}`, commitTime: '2026-03-02T10:00:00.123456Z', seq: 0 },
    actor: { app: { user: 'ann@example.com', reason: 'ticket, "7"' }, db: { user: 'app', ip: '10.0.0.1', applicationName: 'psql', statement: 'INSERT ...' } },
    ...overrides,
  };
}

/** What ClickHouse writes otherwise than JavaScript, and what the CSV must still hold exactly. */
const odd: ChangeEvent[] = [
  change(2, { after: { id: '2', note: 'control \u0001\u001f, line separator \u2028, paragraph \u2029' } }),
  change(4, { op: 'update', before: { id: '4', note: 'line\nbreak\ttab "quoted" \\back' }, changed: ['note'] }),
  change(6, { op: 'action', pk: null, after: null, action: { name: 'api-token.create', ratio: 1.5, big: 1e21 } }),
  change(8, { actor: { app: { user: 42 as unknown as string, ip: '192.0.2.1' } } }),
  change(10, { after: { id: '10', note: 'Zoë 東京 🎉 =1+1' } }),
];

/** Every entry as the reference shapes it: csvRecord over exportEntries, JSON.stringify per line. */
async function reference(stores: ClickHouseStores, filter = {}): Promise<{ records: string[][]; lines: string }> {
  const records: string[][] = [];
  let lines = '';
  for await (const page of stores.queries.exportEntries(filter)) {
    for (const entry of page as AuditEntry[]) {
      records.push(csvRecord(entry, undefined));
      lines += `${JSON.stringify(entry)}\n`;
    }
  }
  return { records, lines };
}

async function exported(stores: ClickHouseStores, filter = {}, pageRows?: number): Promise<{ records: string[][]; lines: string }> {
  const records: string[][] = [];
  for await (const page of stores.queries.exportCsvRecords(filter, pageRows ? { pageRows } : {})) records.push(...page);
  let lines = '';
  for await (const bytes of stores.queries.exportJsonLines(filter, pageRows ? { pageRows } : {})) lines += Buffer.from(bytes).toString('utf8');
  return { records, lines };
}

/** The store's own shaping of CSV records and JSON lines, against the parsed entries, on chDB. */
describe('store exports: CSV records and JSON lines', () => {
  let stores: ClickHouseStores;

  beforeAll(async () => {
    stores = await embeddedStores('store_exports');
    const events = [...Array.from({ length: 25 }, (_, i) => change(2 * i + 11)), ...odd];
    const linked = linkedEntries(new Map(), audited(events, 0));
    await stores.audit.insertEntries(linked.entries, linked.bodies);
    // A replay not merged yet: the same first entries stored again, each a second row.
    await stores.audit.command(`SYSTEM STOP MERGES ${stores.audit.table('audit_log')}`);
    await stores.audit.insertEntries(linked.entries.slice(0, 7), linked.bodies.slice(0, 7));
  });

  afterAll(async () => {
    await stores?.close();
  });

  it('gives the records and lines the parsed entries give, each entry once, over several pages', async () => {
    const expected = await reference(stores);
    expect(expected.records).toHaveLength(30);
    for (const pageRows of [4, 7, 1000]) {
      const got = await exported(stores, {}, pageRows);
      expect(got.records).toEqual(expected.records);
      expect(got.lines).toBe(expected.lines);
    }
  });

  it('shapes exactly what ClickHouse would write otherwise: escapes, actions, values that are not text', async () => {
    const got = (await exported(stores)).records;
    const byId = new Map(got.map((record) => [record[0], record]));
    expect(byId.get(odd[0]!.id)![15]).toBe('{"id":"2","note":"control \\u0001\\u001f, line separator \u2028, paragraph \u2029"}');
    expect(byId.get(odd[2]!.id)![16]).toBe('{"big":1e+21,"name":"api-token.create","ratio":1.5}');
    expect(byId.get(odd[3]!.id)![5]).toBe('42');
    expect(byId.get(odd[4]!.id)![15]).toBe('{"id":"10","note":"Zoë 東京 🎉 =1+1"}');
  });

  it('narrows by the filter as the entries do', async () => {
    const filter = { tables: ['notes'], ops: ['insert' as const] };
    const expected = await reference(stores, filter);
    expect(expected.records.length).toBeGreaterThan(2);
    expect(await exported(stores, filter, 2)).toEqual(expected);
  });
});
