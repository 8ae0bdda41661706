import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditLog, type AuditEntry } from '@walaudit/core';
import { runSetup, withAuditContext } from '@walaudit/pg';
import type { ClickHouseStores } from '@walaudit/clickhouse';
import { connect, createTestDatabase, uniqueName, type TestDatabase } from '../support/postgres.js';
import { embeddedStores, startPipeline, waitForCount, type RunningPipeline } from '../support/pipeline-harness.js';
import { startPgBouncer, type RunningPgBouncer } from '../support/pgbouncer.js';

/**
 * sqlcommenter tags and W3C trace context, end to end: statements go through a real PgBouncer in
 * transaction pooling mode with one server connection, the context trigger records them, the
 * pipeline decodes and stores them, and the store's filters find them.
 */

const traceOf = (who: string) => (who === 'alice' ? '4bf92f3577b34da6a3ce929d0e0e4736' : '0af7651916cd43dd8448eb211c80319c');
const spanOf = (n: number) => n.toString(16).padStart(16, '0');
const comment = (who: string, n: number) => `/*route='%2Faccounts%2F%3Aid',traceparent='00-${traceOf(who)}-${spanOf(n)}-01',user='${who}'*/`;

describe('statement tags through PgBouncer (transaction pooling)', () => {
  let db: TestDatabase;
  let stores: ClickHouseStores;
  let pipeline: RunningPipeline;
  let bouncer: RunningPgBouncer;
  const slot = uniqueName('slot');
  const publication = uniqueName('pub');

  beforeAll(async () => {
    db = await createTestDatabase('tags');
    const admin = await connect(db.url);
    await admin.query(`CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, note text);
      INSERT INTO accounts SELECT g, CASE WHEN g % 2 = 0 THEN 'alice' ELSE 'bob' END, NULL FROM generate_series(1, 200) g;`);
    await admin.end();
    await runSetup(db.url, { slot, publication, tables: [], dryRun: false, log: () => {} });
    stores = await embeddedStores(uniqueName('tags'));
    pipeline = await startPipeline(db.url, stores.audit, { source: { slot, publication }, actor: { appUserFromTags: ['user'] } });
    bouncer = await startPgBouncer(db.url, { pool: 'transaction', poolSize: 1 });
  });

  afterAll(async () => {
    await bouncer?.stop();
    await pipeline?.stop();
    await stores?.close();
    await db?.drop();
  });

  const entriesOf = async (filter: Parameters<ClickHouseStores['queries']['searchEntries']>[0]['filter']): Promise<AuditEntry[]> =>
    (await stores.queries.searchEntries({ filter, limit: 1000 })).entries;

  it('attributes each entry to its own request, two clients interleaved on one server connection', async () => {
    const clients = { alice: await connect(bouncer.urlFor(db.url)), bob: await connect(bouncer.urlFor(db.url)) };
    const pids = new Set<number>();
    // Each client deletes its own rows (alice the even ids, bob the odd ones), a statement at a
    // time and in explicit transactions, both at once: PgBouncer runs them on its one connection
    // in whatever order they arrive.
    const run = async (who: 'alice' | 'bob', first: number) => {
      const client = clients[who];
      for (let i = 0; i < 10; i++) {
        const id = first + 2 * i;
        pids.add((await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
        if (i % 3 === 2) {
          await client.query('BEGIN');
          await client.query(`DELETE FROM accounts WHERE id = ${id} ${comment(who, id)}`);
          await client.query(`UPDATE accounts SET note = 'seen' WHERE id = ${id + 100} ${comment(who, id + 100)}`);
          await client.query('COMMIT');
        } else {
          await client.query(`DELETE FROM accounts WHERE id = ${id} ${comment(who, id)}`);
        }
      }
    };
    await Promise.all([run('alice', 2), run('bob', 1)]);
    await clients.alice.end();
    await clients.bob.end();
    expect(pids.size).toBe(1);

    await waitForCount(stores.audit, 26);
    const entries = await entriesOf({ tables: ['accounts'] });
    expect(entries).toHaveLength(26);
    const backends = new Set<number | undefined>();
    for (const entry of entries) {
      const row = entry.before ?? entry.after!;
      const owner = row.owner!;
      backends.add(entry.actor.db?.backendPid);
      expect(entry.actor.tags).toEqual({ route: '/accounts/:id', traceparent: `00-${traceOf(owner)}-${spanOf(Number(row.id))}-01`, user: owner });
      expect(entry.actor.traceId).toBe(traceOf(owner));
      expect(entry.actor.spanId).toBe(spanOf(Number(row.id)));
      expect(entry.actor.app).toEqual({ user: owner, userFromTag: 'user' });
      expect(entry.actor.db?.statement).toContain(`id = ${row.id} `);
    }
    expect(backends.size).toBe(1);

    // The filters: by trace, by tag, and by the app user a tag gave.
    expect((await entriesOf({ traceId: traceOf('alice').toUpperCase() })).map((e) => e.before?.owner ?? e.after?.owner)).toEqual(Array(13).fill('alice'));
    expect(await entriesOf({ tags: { user: 'bob', route: '/accounts/:id' } })).toHaveLength(13);
    expect(await entriesOf({ tags: { user: 'bob', route: '/elsewhere' } })).toHaveLength(0);
    expect(await entriesOf({ actor: 'alice', ops: ['delete'] })).toHaveLength(10);
    expect(await verifyAuditLog(stores.audit)).toMatchObject({ ok: true });
  });

  it('takes no tags from a string literal or a second statement, reads a long statement\'s end, and lets withAuditContext win', async () => {
    const before = await stores.audit.countEntries();
    const client = await connect(bouncer.urlFor(db.url));
    // Looks like a tag comment, but is the new value of a column.
    await client.query(`UPDATE accounts SET note = '/*user=''mallory''*/' WHERE id = 199`);
    // Two statements in one query string: which one a change came from cannot be told.
    await client.query(`DELETE FROM accounts WHERE id = 197; DELETE FROM accounts WHERE id = 195 /*user='mallory'*/`);
    // Longer than the 4096 characters the trigger records whole: the comment is read from its end.
    await client.query(`DELETE FROM accounts WHERE id IN (193${', 0'.repeat(3000)}) /*user='carol'*/`);
    await client.end();
    const direct = new pg.Client({ connectionString: db.url });
    await direct.connect();
    await withAuditContext(direct, { user: 'dana' }, (tx) => tx.query(`DELETE FROM accounts WHERE id = 191 /*user='carol'*/`));
    await direct.end();

    await waitForCount(stores.audit, before + 5);
    const byId = new Map((await entriesOf({ tables: ['accounts'] })).map((entry) => [(entry.before ?? entry.after)!.id, entry]));
    expect(byId.get('199')!.actor.tags).toBeUndefined();
    expect(byId.get('199')!.after!.note).toBe("/*user='mallory'*/");
    expect(byId.get('197')!.actor.tags).toBeUndefined();
    expect(byId.get('195')!.actor.tags).toBeUndefined();
    expect(byId.get('193')!.actor).toMatchObject({ tags: { user: 'carol' }, app: { user: 'carol', userFromTag: 'user' } });
    expect(byId.get('193')!.actor.db!.statementEnd).toMatch(/ \/\*user='carol'\*\/$/);
    expect(byId.get('191')!.actor).toMatchObject({ tags: { user: 'carol' }, app: { user: 'dana' } });
    expect(pipeline.notices.some((notice) => notice.startsWith('TAGS_IGNORED'))).toBe(true);
    expect(await verifyAuditLog(stores.audit)).toMatchObject({ ok: true });
  });
});
