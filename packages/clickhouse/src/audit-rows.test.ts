import { eventId, formatLsn, type AuditEntry } from '@walaudit/core';
import { describe, expect, it } from 'vitest';
import { INSERTED_COLUMNS, toTsvBuffer, TsvRowWriter } from './audit-rows.js';

const toTsvRows = (entries: AuditEntry[], bodies: string[]) => toTsvBuffer(entries, bodies).toString('utf8');

function entry(lsn: bigint, seq: number, retentionDays = 0): AuditEntry {
  return {
    id: eventId(lsn, seq),
    op: 'insert',
    schema: 'public',
    table: 't',
    keyKind: 'primary-key',
    pk: null,
    columns: [],
    before: null,
    after: null,
    changed: [],
    tx: { xid: 1, lsn: formatLsn(lsn), commitTime: '2025-01-01T00:00:00.000000Z', seq },
    actor: {},
    prevHash: '0'.repeat(64),
    hash: 'a'.repeat(64),
    retentionDays,
    critical: seq === 1,
  };
}

describe('toTsvBuffer', () => {
  it('writes one line per entry in INSERTED_COLUMNS order, the LSN as a UInt64 decimal', () => {
    const high = (1n << 40n) + 7n; // past 2^32: the high half of the LSN counts
    const text = toTsvRows([entry(high, 0, 30), { ...entry(high, 1, 1_000_000), partition: 3 }], ['{"a":1}', '{"b":2}']);
    const rows = text.split('\n');
    expect(rows.pop()).toBe('');
    expect(rows.map((row) => row.split('\t'))).toEqual([
      [eventId(high, 0), high.toString(), '0', '{"a":1}', '0'.repeat(64), 'a'.repeat(64), '30', 'false', '0'],
      [eventId(high, 1), high.toString(), '1', '{"b":2}', '0'.repeat(64), 'a'.repeat(64), '65535', 'true', '3'],
    ]);
    expect(INSERTED_COLUMNS).toHaveLength(9);
  });

  it('escapes only what TabSeparated would misread, leaving other text as it is', () => {
    const body = '{"s":"tab\there \\"q\\" \\\\ \\u0000 Zoë 🚀 \u2028"}\r\n';
    const [row] = toTsvRows([entry(16n, 0)], [body]).split('\n');
    const field = row!.split('\t')[3]!;
    expect(field).toBe('{"s":"tab\\there \\\\"q\\\\" \\\\\\\\ \\\\u0000 Zoë 🚀 \u2028"}\\r\\n');
    // What the reader does: each escape back to its one character.
    const unescaped = field.replace(/\\(.)/g, (_, c: string) => ({ t: '\t', n: '\n', r: '\r' })[c] ?? c);
    expect(unescaped).toBe(body);
  });

  it('grows past its first estimate for bodies of multi-byte characters, keeping every byte', () => {
    const wide = `{"s":"${'日本語🎉'.repeat(5_000)}"}`;
    const bodies = [wide, '{"a":1}', wide];
    const rows = toTsvRows([entry(16n, 0), entry(16n, 1), entry(16n, 2)], bodies).split('\n');
    expect(rows.slice(0, 3).map((row) => row.split('\t')[3])).toEqual(bodies);
  });

  it('refuses entries and bodies that do not pair up', () => {
    expect(() => toTsvRows([entry(16n, 0)], [])).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });
});

describe('TsvRowWriter', () => {
  it('grows its buffer as rows come and writes the same bytes as toTsvBuffer', () => {
    const entries = Array.from({ length: 500 }, (_, i) => entry(BigInt(1 + (i >> 2)) << 20n, i & 3));
    // Wider than ASCII and escaped: each row is bigger than its UTF-16 length says.
    const bodies = entries.map((_, i) => `{"v":"${'é'.repeat(i)}\\${'x'.repeat(300)}"}`);
    const writer = new TsvRowWriter(1);
    for (let i = 0; i < entries.length; i++) writer.add(entries[i]!, bodies[i]!);
    const rows = writer.finish();
    expect(rows.length).toBeGreaterThan(64 * 1024 * 2); // grew past its first buffer more than once
    expect(writer.entries).toBe(500);
    expect(rows.equals(toTsvBuffer(entries, bodies))).toBe(true);
    expect(rows.toString('utf8').split('\n')[499]!.split('\t')[3]).toBe(`{"v":"${'é'.repeat(499)}\\\\${'x'.repeat(300)}"}`);
  });
});
