import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditLog, type AuditEntry, type AuditStore } from '@walaudit/core';
import { runSetup, runTeardown, withAuditContext } from '@walaudit/pg';
import { connect, createTestDatabase, query, uniqueName, type TestDatabase } from '../support/postgres.js';
import { embeddedStore, startPipeline, type RunningPipeline } from '../support/pipeline-harness.js';

/**
 * Attaching, detaching, creating and dropping a partition of an audited partitioned table change
 * what the table holds without a row change: each is an action entry of the partitioned table,
 * through the event triggers setup installs, and only for the instance whose publication has it.
 */
describe('partition attach and detach in the audit trail', () => {
  let db: TestDatabase;
  let store: AuditStore;
  let otherStore: AuditStore;
  let pipeline: RunningPipeline;
  let other: RunningPipeline;
  const slot = uniqueName('parts');
  const other_ = uniqueName('other');
  const setupLines: string[] = [];

  const eventTriggers = async () =>
    (await query<{ evtname: string }>(db.url, `SELECT evtname FROM pg_event_trigger ORDER BY 1`)).map((r) => r.evtname);

  beforeAll(async () => {
    db = await createTestDatabase('partition_changes');
    await query(db.url, `
      CREATE TABLE readings (id bigint, region text, value int, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
      CREATE TABLE readings_eu PARTITION OF readings FOR VALUES IN ('eu');
      CREATE TABLE notes (id bigint PRIMARY KEY);
    `);
    const dry: string[] = [];
    await runSetup(db.url, { slot, publication: slot, tables: ['readings'], dryRun: true, log: (line) => dry.push(line) });
    const planned = dry.join('\n');
    expect(planned).toContain('-- create function walaudit.record_partition_change() (records ATTACH and DETACH PARTITION)');
    expect(planned).toContain('CREATE EVENT TRIGGER walaudit_partitions_before ON ddl_command_start');
    expect(planned).toContain('CREATE EVENT TRIGGER walaudit_partitions_after ON ddl_command_end');
    expect(await eventTriggers()).toEqual([]);

    await runSetup(db.url, { slot, publication: slot, tables: ['readings'], dryRun: false, log: (line) => setupLines.push(line) });
    // A second instance on the same database audits another table only.
    await runSetup(db.url, { slot: other_, publication: other_, tables: ['notes'], dryRun: false, log: () => {} });
    store = await embeddedStore(db.name);
    otherStore = await embeddedStore(`${db.name}_other`);
    pipeline = await startPipeline(db.url, store, { source: { slot, publication: slot } });
    other = await startPipeline(db.url, otherStore, { source: { slot: other_, publication: other_ } });
  });

  afterAll(async () => {
    await pipeline?.stop().catch(() => undefined);
    await other?.stop().catch(() => undefined);
    await store?.close();
    await otherStore?.close();
    await db?.drop();
  });

  it('installs the function and the two event triggers, listed as it runs', async () => {
    expect(setupLines).toContain('created function walaudit.record_partition_change()');
    expect(setupLines).toContain('created event trigger walaudit_partitions_before');
    expect(setupLines).toContain('created event trigger walaudit_partitions_after');
    expect(await eventTriggers()).toEqual(['walaudit_partitions_after', 'walaudit_partitions_before']);
  });

  it('records attach, detach, create and drop of a partition under the partitioned table, with who did it', async () => {
    await query(db.url, `CREATE TABLE readings_us (id bigint NOT NULL, region text NOT NULL, value int); INSERT INTO readings_us VALUES (1, 'us', 5)`);
    const client = await connect(db.url);
    await withAuditContext(client, { user: 'dana', reason: 'archive' }, (tx) => tx.query(`ALTER TABLE readings ATTACH PARTITION readings_us FOR VALUES IN ('us')`));
    await client.end();
    await query(db.url, `ALTER TABLE readings DETACH PARTITION readings_eu`);
    await query(db.url, `CREATE TABLE readings_asia PARTITION OF readings FOR VALUES IN ('asia')`);
    await query(db.url, `DROP TABLE readings_asia`);
    // DETACH ... CONCURRENTLY commits in between: recorded all the same.
    await query(db.url, `ALTER TABLE readings DETACH PARTITION readings_us CONCURRENTLY`);
    // DDL that changes no partition tree, and a partition of a table nobody audits: no entry.
    await query(db.url, `ALTER TABLE readings_us ADD COLUMN note text; CREATE TABLE loose (id int) PARTITION BY RANGE (id); CREATE TABLE loose_1 PARTITION OF loose FOR VALUES FROM (1) TO (10)`);
    await query(db.url, `INSERT INTO notes VALUES (1)`);
    await waitFor(async () => (await store.queryLog({ op: 'action', limit: 10 })).length >= 5);
    await waitFor(async () => (await otherStore.queryLog({ table: 'notes', limit: 1 })).length === 1);

    const actions = (await store.queryLog({ op: 'action', limit: 20 })).reverse();
    expect(actions.map((e) => [e.table, e.action?.name, e.action?.partition, e.action?.command])).toEqual([
      ['readings', 'partition.attach', 'public.readings_us', 'ALTER TABLE'],
      ['readings', 'partition.detach', 'public.readings_eu', 'ALTER TABLE'],
      ['readings', 'partition.attach', 'public.readings_asia', 'CREATE TABLE'],
      ['readings', 'partition.detach', 'public.readings_asia', 'DROP TABLE'],
      ['readings', 'partition.detach', 'public.readings_us', 'ALTER TABLE'],
    ]);
    const [attach, detach, , dropped] = actions as [AuditEntry, AuditEntry, AuditEntry, AuditEntry];
    expect(attach.schema).toBe('public');
    expect(attach.action).toMatchObject({ parent: 'public.readings', bounds: "FOR VALUES IN ('us')" });
    expect(attach.action).not.toHaveProperty('publications');
    expect(attach.actor.app).toEqual({ user: 'dana', reason: 'archive' });
    expect(attach.actor.db?.statement).toContain('ATTACH PARTITION readings_us');
    expect(detach.action).toMatchObject({ bounds: "FOR VALUES IN ('eu')" });
    expect(detach.action).not.toHaveProperty('dropped');
    expect(dropped.action).toMatchObject({ dropped: true });
    // The other instance's publication does not publish readings: none of this is its business.
    expect(await otherStore.queryLog({ op: 'action', limit: 10 })).toEqual([]);
    expect(await verifyAuditLog(store)).toMatchObject({ ok: true });
  });

  it('teardown keeps the event triggers while an instance remains, and removes them with the last', async () => {
    await pipeline.stop();
    await other.stop();
    const first: string[] = [];
    await runTeardown(db.url, { slot: other_, publication: other_, log: (line) => first.push(line) });
    expect(await eventTriggers()).toEqual(['walaudit_partitions_after', 'walaudit_partitions_before']);
    const last = await runTeardown(db.url, { slot, publication: slot, log: () => {} });
    expect(last).toContain('dropped event trigger walaudit_partitions_after');
    expect(last).toContain('dropped event trigger walaudit_partitions_before');
    expect(last).toContain('dropped function walaudit.record_partition_change()');
    expect(last.at(-1)).toBe('dropped schema walaudit');
    expect(await eventTriggers()).toEqual([]);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the audit trail');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
