import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditStore } from '@walaudit/core';
import { findFreePort, runSetup, unpreparedPartitions, unpreparedPartitionsWarning, withAuditContext } from '@walaudit/pg';
import { connect, createTestDatabase, query, uniqueName, type TestDatabase } from '../support/postgres.js';
import { spawnWalaudit } from '../support/walaudit-process.js';
import { tempDir } from '../support/temp-dir.js';
import { embeddedStore, startPipeline, type RunningPipeline } from '../support/pipeline-harness.js';

/**
 * What production databases hold: a partitioned table (audited under the partitioned table's name,
 * whichever partition a statement names) with a STORED generated column, on the shared server.
 */
describe('partitioned tables and generated columns', () => {
  let db: TestDatabase;
  let store: AuditStore;
  let pipeline: RunningPipeline;
  const lines: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('partitions');
    await query(db.url, `
      CREATE TABLE readings (id bigint, region text, value int, doubled int GENERATED ALWAYS AS (value * 2) STORED, PRIMARY KEY (id, region))
        PARTITION BY LIST (region);
      CREATE TABLE readings_eu PARTITION OF readings FOR VALUES IN ('eu');
      CREATE TABLE readings_us PARTITION OF readings FOR VALUES IN ('us');
      CREATE TABLE plain (id bigint PRIMARY KEY);
    `);
    // Listed by the root only: its partitions come with it.
    await runSetup(db.url, { slot: 'walaudit', publication: 'walaudit', tables: ['readings', 'plain'], dryRun: false, log: (line) => lines.push(line) });
    store = await embeddedStore(db.name);
    pipeline = await startPipeline(db.url, store);
  });

  afterAll(async () => {
    await pipeline?.stop();
    await store?.close();
    await db?.drop();
  });

  it('sets FULL identity and the context trigger on every partition, and publishes through the root', async () => {
    const rows = await query<{ relname: string; relreplident: string; trigger: boolean }>(db.url, `
      SELECT c.relname, c.relreplident, EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = 'walaudit_context') AS trigger
        FROM pg_class c WHERE c.relname LIKE 'readings%' AND c.relkind IN ('r', 'p') ORDER BY 1`);
    expect(rows).toEqual([
      { relname: 'readings', relreplident: 'f', trigger: true },
      { relname: 'readings_eu', relreplident: 'f', trigger: true },
      { relname: 'readings_us', relreplident: 'f', trigger: true },
    ]);
    const [pub] = await query<{ pubviaroot: boolean; published: string[] }>(db.url,
      `SELECT pubviaroot, (SELECT array_agg(tablename::text ORDER BY tablename) FROM pg_publication_tables WHERE pubname = 'walaudit') AS published
         FROM pg_publication WHERE pubname = 'walaudit'`);
    expect(pub).toEqual({ pubviaroot: true, published: ['plain', 'readings'] });
    expect(lines).toContain('created publication walaudit FOR TABLE public.plain, public.readings with publish_via_partition_root');
    expect(await unpreparedPartitions(db.url, 'walaudit')).toEqual([]);
  });

  it('audits changes of any partition under the root, with the whole row and the actor, generated columns absent', async () => {
    const client = await connect(db.url);
    await client.query(`INSERT INTO readings (id, region, value) VALUES (1, 'eu', 10), (2, 'us', 20)`);
    // A row moving to another partition, and a delete naming the partition itself.
    await client.query(`UPDATE readings SET region = 'us' WHERE id = 1`);
    await withAuditContext(client, { user: 'dana' }, (tx) => tx.query(`DELETE FROM readings_us WHERE id = 2`));
    await client.end();
    await pipeline.waitForEntries(5);

    const entries = (await store.queryLog({ limit: 20 })).filter((e) => e.op !== 'action').reverse();
    expect(entries.map((e) => `${e.op} ${e.table}`)).toEqual([
      'insert readings', 'insert readings',
      // pgoutput sends a cross-partition update as a delete from one leaf and an insert into the other.
      'delete readings', 'insert readings',
      'delete readings',
    ]);
    const deleted = entries.at(-1)!;
    // Before Postgres 18 pgoutput never sends generated columns; from 18 only with publish_generated_columns.
    expect(deleted.before).toEqual({ id: '2', region: 'us', value: '20' });
    expect(deleted.actor.app).toEqual({ user: 'dana' });
    expect(deleted.actor.db?.statement).toContain('DELETE FROM readings_us');
  });

  it('publishes a partition created after setup through the root; setup run again gives it FULL identity and its trigger', async () => {
    await query(db.url, `CREATE TABLE readings_asia PARTITION OF readings FOR VALUES IN ('asia')`);
    await query(db.url, `INSERT INTO readings (id, region, value) VALUES (7, 'asia', 3)`);
    await query(db.url, `DELETE FROM readings WHERE id = 7`);
    await waitFor(async () => (await store.queryLog({ table: 'readings', op: 'delete', limit: 10 })).some((e) => e.pk?.id === '7'));
    const [keyOnly] = await store.queryLog({ table: 'readings', op: 'delete', limit: 1 });
    // The new leaf has Postgres's default identity: the delete carries the key only, and the reader says so.
    expect(keyOnly?.before).toEqual({ id: '7', region: 'asia', value: null });
    expect(pipeline.notices.join('\n')).toContain('public.readings_asia has REPLICA IDENTITY DEFAULT');

    // What start warns about before any change reaches the partition.
    expect(await unpreparedPartitions(db.url, 'walaudit')).toEqual(['public.readings_asia']);
    expect(unpreparedPartitionsWarning(['public.readings_asia'])).toContain('run `walaudit setup` again');

    const again: string[] = [];
    await runSetup(db.url, { slot: 'walaudit', publication: 'walaudit', tables: ['readings', 'plain'], dryRun: false, log: (line) => again.push(line) });
    expect(await unpreparedPartitions(db.url, 'walaudit')).toEqual([]);
    expect(again).toEqual(['added trigger walaudit_context on public.readings_asia', 'set REPLICA IDENTITY FULL on public.readings_asia']);
    await query(db.url, `INSERT INTO readings (id, region, value) VALUES (8, 'asia', 4)`);
    await query(db.url, `DELETE FROM readings_asia WHERE id = 8`);
    await waitFor(async () => (await store.queryLog({ table: 'readings', op: 'delete', limit: 10 })).some((e) => e.pk?.id === '8'));
    const [full] = await store.queryLog({ table: 'readings', op: 'delete', limit: 1 });
    expect(full?.before).toEqual({ id: '8', region: 'asia', value: '4' });
    expect(full?.actor.db?.statement).toContain('DELETE FROM readings_asia');
  });

  it('records a TRUNCATE of one partition under the partition, of the partitioned table once under its name; a detached partition leaves the audit', async () => {
    await query(db.url, `INSERT INTO readings (id, region, value) VALUES (5, 'eu', 1)`);
    const client = await connect(db.url);
    await withAuditContext(client, { user: 'erin' }, (tx) => tx.query(`TRUNCATE readings_eu`));
    await client.end();
    await query(db.url, `ALTER TABLE readings DETACH PARTITION readings_us`);
    await query(db.url, `DELETE FROM readings_us`);
    await query(db.url, `TRUNCATE readings`);
    await query(db.url, `INSERT INTO plain VALUES (1)`);
    await waitFor(async () => (await store.queryLog({ table: 'plain', limit: 1 })).length === 1);
    const truncates = (await store.queryLog({ op: 'truncate', limit: 10 })).reverse();
    expect(truncates.map((e) => [e.table, e.actor.db?.statement])).toEqual([
      // pgoutput does not send it (publish_via_partition_root): the partition's trigger's marker does.
      ['readings_eu', 'TRUNCATE readings_eu'],
      // Every partition's trigger fires here too; their markers give way to pgoutput's truncate of the root.
      ['readings', 'TRUNCATE readings'],
    ]);
    expect(truncates[0]?.actor.app).toEqual({ user: 'erin' });
    // readings_us held the row moved there earlier: its deletion after DETACH is no longer audited.
    expect((await store.queryLog({ op: 'delete', limit: 100 })).filter((e) => e.actor.db?.statement === 'DELETE FROM readings_us')).toEqual([]);
  });

  it('turns publish_via_partition_root on again when setup finds the publication without it', async () => {
    await query(db.url, `ALTER PUBLICATION walaudit SET (publish_via_partition_root = false)`);
    const again: string[] = [];
    await runSetup(db.url, { slot: 'walaudit', publication: 'walaudit', tables: ['readings', 'plain'], dryRun: false, log: (line) => again.push(line) });
    expect(again).toEqual(['set publish_via_partition_root on publication walaudit']);
    expect(await query(db.url, `SELECT pubviaroot FROM pg_publication WHERE pubname = 'walaudit'`)).toEqual([{ pubviaroot: true }]);
  });

  it('walaudit start warns about a partition added after setup', async () => {
    const slot = uniqueName('late');
    await runSetup(db.url, { slot, publication: slot, tables: ['readings'], dryRun: false, log: () => {} });
    await query(db.url, `CREATE TABLE readings_late PARTITION OF readings FOR VALUES IN ('late')`);
    const start = spawnWalaudit(['start', '--source', db.url, '--data-dir', tempDir('partitions'), '--http-port', String(await findFreePort()), '--slot', slot, '--publication', slot]);
    try {
      await start.waitFor((status) => status.state === 'running');
      expect(start.stderr() + start.stdout()).toContain('partition public.readings_late was added after `walaudit setup`');
    } finally {
      await start.stop();
    }
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the audit trail');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
