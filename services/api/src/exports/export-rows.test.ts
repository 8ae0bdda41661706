import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS, csvRecord, type AuditEntry } from '@walaudit/core';
import { keyInWords } from './export-rows.js';
import { csvChunks, jsonLineChunks } from './export-stream.js';
import { entryOf } from '../../../../test/support/audit-entry-fixture.js';

async function collect(chunks: AsyncIterable<string>): Promise<string> {
  let text = '';
  for await (const chunk of chunks) text += chunk;
  return text;
}

async function* pages<T>(...list: T[][]): AsyncGenerator<T[]> {
  for (const page of list) yield page;
}

async function* each<T>(...items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

const records = (...entries: AuditEntry[]) => entries.map((entry) => csvRecord(entry, undefined));

const noParents = { cascadeParents: async () => new Map<string, string>() };

describe('csvChunks', () => {
  it('writes one header row then RFC 4180 records that parse back to the same values', async () => {
    const tricky = { id: '1', note: 'comma, "quote"\r\nnew line\nand ünïcødé 🎉' };
    const entries = [entryOf(2, { after: tricky }), entryOf(1)];
    const parents = { cascadeParents: async (ids: readonly string[]) => new Map(ids.filter((id) => id.endsWith('-1')).map((id) => [id, 'root-0'])) };
    const text = await collect(csvChunks(pages(records(entries[0]!), records(entries[1]!)), parents));
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
    await collect(csvChunks(pages(records(entryOf(1, { op: 'insert' }), entryOf(2, { op: 'delete' })), records(entryOf(3, { op: 'insert' }))), spy));
    expect(asked).toEqual([['0000000001000000-2']]);
  });
});

describe('jsonLineChunks', () => {
  it('cuts pages of lines at line ends only, and loses nothing', async () => {
    const line = (n: number) => `${JSON.stringify({ n, pad: 'x'.repeat(1000 + n) })}\n`;
    const page = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => line(from + i)).join('');
    const chunks: Buffer[] = [];
    for await (const chunk of jsonLineChunks(each(Buffer.from(page(0, 300)), Buffer.from(page(300, 301))))) chunks.push(Buffer.from(chunk));
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) expect(chunk.at(-1)).toBe(0x0a);
    expect(Buffer.concat(chunks).toString('utf8')).toBe(page(0, 301));
  });
});

describe('keyInWords', () => {
  it('prints a key for people', () => {
    expect(keyInWords({ id: '7', region: null })).toBe('id=7, region=NULL');
    expect(keyInWords(null)).toBe('');
  });
});
