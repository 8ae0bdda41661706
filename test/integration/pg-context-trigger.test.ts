import type pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MESSAGE_PREFIX, type DbContext } from '@walaudit/core';
import { installDemoSchema, recordAuditAction, runSetup, withAuditContext } from '@walaudit/pg';
import { connect, createTestDatabase, query, serverUrl, uniqueName, withUrl, type TestDatabase } from '../support/postgres.js';
import { createTestDecodingSlot, parseMessageLine, readTestDecoding } from '../support/test-decoding.js';

/**
 * What the context trigger and the application helpers put into the WAL, read back through a
 * test_decoding slot (which, unlike pgoutput's default, prints logical messages inline).
 */

let db: TestDatabase;
let admin: pg.Client;
let decodingSlot: string;
// Roles are cluster-wide and other test files make their own bob: this one's name is unique.
const ROLE = uniqueName('bob');

beforeAll(async () => {
  await query(serverUrl(), `CREATE ROLE ${ROLE} LOGIN`);
});

beforeEach(async () => {
  db = await createTestDatabase('context');
  await installDemoSchema(db.url);
  await runSetup(db.url, { slot: uniqueName('slot'), publication: 'walaudit', tables: [], dryRun: false, log: () => undefined });
  await query(db.url, `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${ROLE}`);
  admin = await connect(db.url);
  decodingSlot = uniqueName('decoding');
  await createTestDecodingSlot(admin, decodingSlot);
});

afterEach(async () => {
  await admin.end();
  await db.drop();
});

afterAll(async () => {
  await query(serverUrl(), `DROP ROLE IF EXISTS ${ROLE}`);
});

/** Lines without BEGIN/COMMIT, messages shown as `message <prefix>` and rows as `<op> <table>`. */
function summarize(lines: string[]): string[] {
  return lines.flatMap((line) => {
    const message = parseMessageLine(line);
    if (message) return [`message ${message.prefix}`];
    // Rows: `table public.t: DELETE: ...`; TRUNCATE lists every table: `table public.a, public.b: TRUNCATE: cascade`.
    const row = /^table (public\.\w+(?:, public\.\w+)*): (\w+):/.exec(line);
    return row ? [`${row[2]} ${row[1]!.replace(/public\./g, '')}`] : [];
  });
}

function stmtContexts(lines: string[]): DbContext[] {
  return lines.map(parseMessageLine).filter((m) => m?.prefix === MESSAGE_PREFIX.statementContext).map((m) => JSON.parse(m!.content) as DbContext);
}

describe('statement context trigger', () => {
  it('puts who, from where and what before the rows of a DELETE typed in psql', async () => {
    const bob = await connect(withUrl(db.url, { user: ROLE, applicationName: 'psql' }));
    await bob.query('DELETE FROM order_lines WHERE id = 1');
    await bob.end();

    const lines = await readTestDecoding(admin, decodingSlot);
    expect(summarize(lines)).toEqual(['message walaudit.stmt', 'DELETE order_lines']);
    expect(parseMessageLine(lines.find((l) => l.startsWith('message'))!)?.transactional).toBe(true);
    expect(stmtContexts(lines)).toEqual([{
      user: ROLE,
      ip: '127.0.0.1',
      applicationName: 'psql',
      statement: 'DELETE FROM order_lines WHERE id = 1',
      backendPid: expect.any(Number),
    }]);
  });

  it('emits the context once for a cascade, before the parent and child rows', async () => {
    await admin.query('DELETE FROM customers WHERE id = 2');
    const summary = summarize(await readTestDecoding(admin, decodingSlot));
    expect(summary.filter((s) => s.startsWith('message'))).toEqual(['message walaudit.stmt']);
    expect(summary[0]).toBe('message walaudit.stmt');
    expect(summary).toContain('DELETE customers');
    expect(summary).toContain('DELETE orders');
    expect(summary).toContain('DELETE order_lines');
  });

  it('emits again when the statement changes within a transaction, and covers TRUNCATE', async () => {
    await admin.query('BEGIN');
    await admin.query('DELETE FROM order_lines WHERE id = 3');
    await admin.query('DELETE FROM order_lines WHERE id = 4');
    await admin.query('COMMIT');
    await admin.query('TRUNCATE customers CASCADE');
    const lines = await readTestDecoding(admin, decodingSlot);
    expect(stmtContexts(lines).map((c) => c.statement)).toEqual([
      'DELETE FROM order_lines WHERE id = 3',
      'DELETE FROM order_lines WHERE id = 4',
      'TRUNCATE customers CASCADE',
    ]);
    expect(summarize(lines).at(-1)).toMatch(/^TRUNCATE .*customers/);
  });
});

describe('withAuditContext and recordAuditAction', () => {
  it('writes the app context and the action into the same transaction as the rows', async () => {
    const result = await withAuditContext(admin, { user: 'alice@example.com', ip: '203.0.113.9', reason: 'GDPR erasure' }, async (client) => {
      await client.query('DELETE FROM order_lines WHERE order_id = 5');
      await recordAuditAction(client, { name: 'erase', table: 'public.order_lines', key: { order_id: '5' } });
      return 'done';
    });
    expect(result).toBe('done');

    const lines = await readTestDecoding(admin, decodingSlot);
    const body = lines.filter((line) => !line.startsWith('BEGIN') && !line.startsWith('COMMIT'));
    expect(lines.filter((line) => line.startsWith('BEGIN'))).toHaveLength(1);
    expect(summarize(body)).toEqual(['message walaudit', 'message walaudit.stmt', 'DELETE order_lines', 'DELETE order_lines', 'message walaudit.action']);
    const messages = body.map(parseMessageLine).filter((m) => m !== undefined);
    expect(JSON.parse(messages[0]!.content)).toEqual({ user: 'alice@example.com', ip: '203.0.113.9', reason: 'GDPR erasure' });
    expect(JSON.parse(messages[2]!.content)).toEqual({ name: 'erase', table: 'public.order_lines', key: { order_id: '5' } });
  });

  it('rolls back the context with the changes when fn throws', async () => {
    await expect(withAuditContext(admin, { user: 'alice' }, async (client) => {
      await client.query('DELETE FROM order_lines WHERE order_id = 6');
      throw new Error('changed my mind');
    })).rejects.toThrow('changed my mind');
    expect(summarize(await readTestDecoding(admin, decodingSlot))).toEqual([]);
    expect(await query(db.url, 'SELECT count(*)::int AS n FROM order_lines WHERE order_id = 6')).toEqual([{ n: 2 }]);
  });
});
