import { PassThrough } from 'node:stream';
import { parseConfig } from '@walaudit/core';
import { describe, expect, it } from 'vitest';
import { exportCommand, exportPath } from './export-command.js';

describe('exportPath', () => {
  it('sends the filter flags as walaudit log does, --since as from', () => {
    expect(exportPath({ format: 'csv', table: ['public.orders', 'lines'], op: ['delete'], since: '2026-03-01T00:00:00Z', to: '2026-04-01T00:00:00Z', actor: 'alice', ip: '10.0.0.1', application: 'psql', xid: '7', text: 'a b' })).toBe(
      '/api/exports/entries.csv?table=public.orders&table=lines&op=delete&actor=alice&ip=10.0.0.1&application=psql&text=a+b&from=2026-03-01T00%3A00%3A00Z&to=2026-04-01T00%3A00%3A00Z&xid=7',
    );
  });

  it('asks each format at its route, the PDF with its appendix when asked', () => {
    expect(exportPath({ format: 'jsonl' })).toBe('/api/exports/entries.jsonl');
    expect(exportPath({ format: 'pdf', snapshots: true, pk: '{"id":"1"}', table: ['orders'] })).toBe('/api/exports/report.pdf?table=orders&pk=%7B%22id%22%3A%221%22%7D&snapshots=1');
  });

  it('refuses --snapshots outside a PDF, --since with --from, and --pk without one table', () => {
    expect(() => exportPath({ format: 'csv', snapshots: true })).toThrow(/--snapshots is for --format pdf/);
    expect(() => exportPath({ format: 'csv', since: '2026-01-01', from: '2026-02-01' })).toThrow(/--since is the older name of --from/);
    expect(() => exportPath({ format: 'csv', pk: '{"id":"1"}' })).toThrow(/--pk needs exactly one --table/);
  });
});

describe('exportCommand', () => {
  it('refuses to write a PDF to a terminal, before asking anything', async () => {
    const terminal = Object.assign(new PassThrough(), { isTTY: true });
    // Port 1: were it asked, nothing would answer and the error would say so instead.
    await expect(exportCommand(parseConfig({ http: { port: 1 } }), { format: 'pdf' }, terminal)).rejects.toThrow(/a PDF is binary .* give --out FILE/);
  });

  it('passes --trace-id and each --tag to the export route', () => {
    expect(exportPath({ format: 'jsonl', traceId: '4bf92f3577b34da6a3ce929d0e0e4736', tag: ['user=ann'] })).toBe('/api/exports/entries.jsonl?tag=user%3Dann&traceId=4bf92f3577b34da6a3ce929d0e0e4736');
  });
});
