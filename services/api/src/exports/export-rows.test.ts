import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS, csvRecord, keyInWords } from './export-rows.js';
import { csvChunks, jsonLineChunks } from './export-stream.js';
import { entryOf } from './export-fixture.test-support.js';

async function collect(chunks: AsyncIterable<string>): Promise<string> {
  let text = '';
  for await (const chunk of chunks) text += chunk;
  return text;
}

async function* pages<T>(...list: T[][]): AsyncGenerator<T[]> {
  for (const page of list) yield page;
}

const noParents = { cascadeParents: async () => new Map<string, string>() };

describe('csvRecord', () => {
  it('shapes an entry into the documented columns', () => {
    const record = csvRecord(entryOf(3), 'parent-1');
    expect(Object.fromEntries(CSV_COLUMNS.map((column, index) => [column, record[index]]))).toEqual({
      id: '0000000001000000-3',
      commit_time: '2026-03-02T10:00:00.123456Z',
      table: 'public.orders',
      op: 'update',
      primary_key: '{"id":"3"}',
      app_user: 'alice',
      db_user: 'app',
      client_ip: '10.1.2.3',
      application: 'billing',
      reason: 'ticket 12',
      xid: '700',
      lsn: '0/1000000',
      cascade_parent: 'parent-1',
      changed_columns: 'note',
      before: '{"id":"3","note":"old"}',
      after: '{"id":"3","note":"new"}',
      detail: '',
      prev_hash: 'a'.repeat(64),
      hash: 'b'.repeat(64),
    });
  });

  it('leaves absent values empty, keys sorted canonically, and says what an action recorded', () => {
    const record = csvRecord(entryOf(1, { op: 'action', pk: null, before: null, after: null, changed: [], actor: { app: { user: 'bob', ip: '192.0.2.9' } }, action: { name: 'export', target: 'orders' } }), undefined);
    const byColumn = Object.fromEntries(CSV_COLUMNS.map((column, index) => [column, record[index]]));
    expect(byColumn).toMatchObject({ primary_key: '', db_user: '', client_ip: '192.0.2.9', application: '', cascade_parent: '', before: '', after: '', detail: '{"name":"export","target":"orders"}' });
    expect(csvRecord(entryOf(1, { pk: { b: '2', a: '1' } }), undefined)[4]).toBe('{"a":"1","b":"2"}');
  });
});

describe('csvChunks', () => {
  it('writes one header row then RFC 4180 records that parse back to the same values', async () => {
    const tricky = { id: '1', note: 'comma, "quote"\r\nnew line\nand ünïcødé 🎉' };
    const entries = [entryOf(2, { after: tricky }), entryOf(1)];
    const parents = { cascadeParents: async (ids: readonly string[]) => new Map(ids.filter((id) => id.endsWith('-1')).map((id) => [id, 'root-0'])) };
    const text = await collect(csvChunks(pages([entries[0]!], [entries[1]!]), parents));
    expect(text.startsWith(`${CSV_COLUMNS.join(',')}\r\n`)).toBe(true);
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = parse(text, { columns: true }) as Record<string, string>[];
    expect(rows.map((row) => row.id)).toEqual(entries.map((entry) => entry.id));
    expect(JSON.parse(rows[0]!.after!)).toEqual(tricky);
    expect(rows.map((row) => row.cascade_parent)).toEqual(['', 'root-0']);
  });

  it('writes the header alone when nothing matches', async () => {
    expect(await collect(csvChunks(pages(), noParents))).toBe(`${CSV_COLUMNS.join(',')}\r\n`);
  });

  it('asks for cascade parents only of deletes and updates', async () => {
    const asked: string[][] = [];
    const spy = { cascadeParents: async (ids: readonly string[]) => (asked.push([...ids]), new Map<string, string>()) };
    await collect(csvChunks(pages([entryOf(1, { op: 'insert' }), entryOf(2, { op: 'delete' })], [entryOf(3, { op: 'insert' })]), spy));
    expect(asked).toEqual([['0000000001000000-2']]);
  });
});

describe('jsonLineChunks', () => {
  it('writes one entry per line that parses back to the entry', async () => {
    const entries = [entryOf(2, { after: { id: '2', note: 'line\nbreak' } }), entryOf(1)];
    const text = await collect(jsonLineChunks(pages(entries)));
    const lines = text.split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(0, -1).map((line) => JSON.parse(line))).toEqual(entries);
  });
});

describe('keyInWords', () => {
  it('prints a key for people', () => {
    expect(keyInWords({ id: '7', region: null })).toBe('id=7, region=NULL');
    expect(keyInWords(null)).toBe('');
  });
});
