import { execFileSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '@walaudit/core';
import { withAuditContext } from '@walaudit/pg';
import { callApi } from '../support/api-client.js';
import { startApiFixture, type ApiFixture } from '../support/api-fixture.js';
import { tempDir } from '../support/temp-dir.js';
import { runWalaudit } from '../support/walaudit-process.js';

/** Values a naive CSV or a careless encoder gets wrong. */
const TRICKY = ['comma, inside', 'quote " and ""two""', 'line\nbreak and\r\ncrlf', 'ünïcødé Zürich 東京 🎉', ' leading and trailing ', '=1+1'];

/** The whole body of a GET, as bytes. */
async function download(port: number, path: string, token?: string): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
}

/** The exports of `walaudit start`, through its API and `walaudit export`, against what GET /api/entries returns. */
describe('HTTP API: exports', () => {
  let fx: ApiFixture;
  let admin: pg.Client;
  let port: number;
  let dataDir: string;
  let viewer: string;
  let all: AuditEntry[];
  let rootDeleteId: string;

  beforeAll(async () => {
    fx = await startApiFixture('api-exports', {
      viewerName: 'auditor-jane',
      env: { WALAUDIT_REPORT_ORGANISATION: 'Example Health Ltd', WALAUDIT_REPORT_MAX_ENTRIES: '30' },
      schema: `
        CREATE TABLE notes (id int PRIMARY KEY, body text);
        CREATE TABLE folders (id int PRIMARY KEY, name text);
        CREATE TABLE files (id int PRIMARY KEY, folder int REFERENCES folders ON DELETE CASCADE);`,
    });
    ({ admin, port, dataDir, viewer } = fx);
    for (const [index, body] of TRICKY.entries()) await admin.query('INSERT INTO notes VALUES ($1, $2)', [index + 1, body]);
    await withAuditContext(admin, { user: 'alice@example.com', ip: '10.0.0.9', reason: 'ticket, "42"' }, (tx) => tx.query("UPDATE notes SET body = body || ' (checked)' WHERE id <= 2"));
    await admin.query("INSERT INTO folders VALUES (1, 'a'); INSERT INTO files VALUES (10, 1), (11, 1)");
    await admin.query('DELETE FROM folders WHERE id = 1');
    // The viewer token's creation (an action), 6 inserts, 2 updates, 1 + 2 inserts, 1 + 2 cascaded
    // deletes; more for the report's bound.
    await admin.query('INSERT INTO folders SELECT g, $1 FROM generate_series(100, 129) g', ['bulk']);
    await fx.start.waitFor((status) => status.entriesStored >= 45);
    all = (await callApi(port, 'GET', '/api/entries?limit=1000', { token: viewer })).body.entries as AuditEntry[];
    rootDeleteId = all.find((entry) => entry.op === 'delete' && entry.table === 'folders')!.id;
  });

  afterAll(async () => {
    await fx?.close();
  });

  it('takes no anonymous request', async () => {
    for (const path of ['/api/exports/entries.csv', '/api/exports/entries.jsonl', '/api/exports/report.pdf']) {
      const answer = await callApi(port, 'GET', path);
      expect(answer.status).toBe(401);
      expect(answer.body.error).toMatchObject({ code: 'API_UNAUTHORIZED' });
    }
  });

  it('CSV: a viewer gets a file with one header row whose records parse back to the same entries', async () => {
    const response = await download(port, '/api/exports/entries.csv', viewer);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="walaudit-entries-\d{8}T\d{6}Z\.csv"$/);
    const text = await response.text();
    const rows = parse(text, { columns: true }) as Record<string, string>[];
    expect(text.split('\r\n')[0]).toBe('id,commit_time,table,op,primary_key,app_user,db_user,client_ip,application,reason,xid,lsn,cascade_parent,changed_columns,before,after,detail,prev_hash,hash');
    expect(rows.map((row) => row.id)).toEqual(all.map((entry) => entry.id));
    for (const [index, entry] of all.entries()) {
      const row = rows[index]!;
      expect(row).toMatchObject({ commit_time: entry.tx.commitTime, table: `${entry.schema}.${entry.table}`, op: entry.op, xid: String(entry.tx.xid), lsn: entry.tx.lsn, hash: entry.hash, prev_hash: entry.prevHash });
      expect(row.before ? JSON.parse(row.before) : null).toEqual(entry.before);
      expect(row.after ? JSON.parse(row.after) : null).toEqual(entry.after);
      expect(row.primary_key ? JSON.parse(row.primary_key) : null).toEqual(entry.pk);
    }
    const insertedBodies = rows.filter((row) => row.table === 'public.notes' && row.op === 'insert').map((row) => (JSON.parse(row.after!) as { body: string }).body);
    expect(insertedBodies.sort()).toEqual([...TRICKY].sort());
    const update = rows.find((row) => row.table === 'public.notes' && row.op === 'update')!;
    expect(update).toMatchObject({ app_user: 'alice@example.com', client_ip: expect.any(String), reason: 'ticket, "42"', changed_columns: 'body' });
  });

  it('CSV: the filter narrows, and a caused delete names its cascade parent', async () => {
    const deadline = Date.now() + 30_000;
    let rows: Record<string, string>[] = [];
    // The correlator links cascaded deletes after they are stored.
    while (Date.now() < deadline) {
      rows = parse(await (await download(port, '/api/exports/entries.csv?table=files&op=delete', viewer)).text(), { columns: true }) as Record<string, string>[];
      if (rows.length === 2 && rows.every((row) => row.cascade_parent)) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(rows.map((row) => row.id)).toEqual(all.filter((entry) => entry.table === 'files' && entry.op === 'delete').map((entry) => entry.id));
    expect(rows.map((row) => row.cascade_parent)).toEqual([rootDeleteId, rootDeleteId]);
  });

  it('JSON lines: one line per entry, the same entries as GET /api/entries', async () => {
    const response = await download(port, '/api/exports/entries.jsonl', viewer);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toMatch(/\.jsonl"$/);
    const text = await response.text();
    expect(text.endsWith('\n')).toBe(true);
    expect(text.slice(0, -1).split('\n').map((line) => JSON.parse(line))).toEqual(all);
  });

  it('lists the exports in the OpenAPI document, each for viewers', async () => {
    const paths = (await callApi(port, 'GET', '/api/openapi.json', { token: viewer })).body.paths as Record<string, { get: { 'x-walaudit-role': string; parameters: { name: string }[] } }>;
    for (const path of ['/api/exports/entries.csv', '/api/exports/entries.jsonl', '/api/exports/report.pdf']) {
      expect(paths[path]?.get['x-walaudit-role']).toBe('viewer');
      expect(paths[path]?.get.parameters.map((parameter) => parameter.name)).toEqual(expect.arrayContaining(['table', 'op', 'actor', 'from', 'to', 'pk']));
    }
    expect(paths['/api/exports/report.pdf']?.get.parameters.map((parameter) => parameter.name)).toContain('snapshots');
  });

  it('answers a bad filter with its error before sending anything', async () => {
    const answer = await callApi(port, 'GET', '/api/exports/entries.csv?from=yesterday', { token: viewer });
    expect(answer.status).toBe(400);
    expect(answer.body.error?.message).toContain('from');
  });

  it('PDF: organisation, who and when, the filter, the verification, and one row per entry', async () => {
    const response = await download(port, '/api/exports/report.pdf?table=notes&snapshots=1', viewer);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    const pdf = Buffer.from(await response.arrayBuffer());
    const text = execFileSync('pdftotext', ['-layout', '-', '-'], { input: pdf }).toString('utf8');
    expect(text).toContain('Example Health Ltd');
    expect(text).toMatch(/Generated by auditor-jane \(role viewer\) at \d{4}-\d\d-\d\dT/);
    expect(text).toContain('Filter: entries table notes');
    // The sentence wraps over lines.
    expect(text.replace(/\s+/g, ' ')).toMatch(/Verification: Intact: 1 hash chain holding the entries of this report verified from its oldest entry [0-9A-F]{16}-\d+ to the entry after its newest \(or the end of the log\), \d+ entries checked/);
    const notes = all.filter((entry) => entry.table === 'notes');
    expect(text.match(/^ *[0-9A-F]{16}-\d+ +\d{4}-/gm)?.map((line) => line.trim().split(/ +/)[0])).toEqual(notes.map((entry) => entry.id));
    expect(text).toContain('Appendix');
    expect(text).toContain('alice@example.com');
  });

  it('PDF: refuses more entries than report.maxEntries, pointing to CSV', async () => {
    const answer = await callApi(port, 'GET', '/api/exports/report.pdf', { token: viewer });
    expect(answer.status).toBe(422);
    expect(answer.body.error?.code).toBe('REPORT_TOO_LARGE');
    expect(answer.body.error?.message).toContain('entries.csv');
  });

  it('walaudit export writes the same CSV to stdout, and a PDF to --out', async () => {
    const csv = await runWalaudit(['export', '--format', 'csv', '--table', 'notes', '--http-port', String(port)]);
    expect(csv.stderr).toBe('');
    expect(csv.code).toBe(0);
    const ids = (parse(csv.stdout, { columns: true }) as { id: string }[]).map((row) => row.id);
    expect(ids).toEqual(all.filter((entry) => entry.table === 'notes').map((entry) => entry.id));
    const out = join(tempDir('api-exports-out'), 'report.pdf');
    const pdf = await runWalaudit(['export', '--format', 'pdf', '--table', 'folders', '--op', 'delete', '--out', out, '--http-port', String(port), '--token', viewer]);
    expect(pdf.code).toBe(0);
    expect(readFileSync(out).subarray(0, 5).toString()).toBe('%PDF-');
    expect(existsSync(`${out}.part`)).toBe(false);
    const refused = await runWalaudit(['export', '--format', 'pdf', '--http-port', String(port), '--out', out]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('REPORT_TOO_LARGE');
  });
});
