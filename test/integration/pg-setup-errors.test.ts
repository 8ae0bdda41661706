import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { findFreePort, installDemoSchema, runSetup, runTeardown, startLocalPostgres, type SetupOptions } from '@walaudit/pg';
import { createTestDatabase, query, serverUrl, uniqueName, withUrl, type TestDatabase } from '../support/postgres.js';

/** Each refusal must come before any change: the database is left exactly as it was. */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

function options(overrides: Partial<SetupOptions> = {}): SetupOptions {
  return { slot: uniqueName('slot'), publication: 'walaudit', tables: [], dryRun: false, log: () => undefined, ...overrides };
}

async function testDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase('errors');
  cleanups.push(() => db.drop());
  await installDemoSchema(db.url);
  return db;
}

/** Whether setup left any trace. */
async function untouched(url: string): Promise<boolean> {
  const [row] = await query<{ n: number }>(
    url,
    `SELECT ((SELECT count(*) FROM pg_publication) + (SELECT count(*) FROM pg_trigger WHERE tgname = 'walaudit_context')
          + (SELECT count(*) FROM pg_namespace WHERE nspname = 'walaudit') + (SELECT count(*) FROM pg_class WHERE relreplident = 'f' AND relnamespace = 'public'::regnamespace))::int AS n`,
  );
  return row!.n === 0;
}

describe('setup refuses clearly', () => {
  it('CONFIG_INVALID for a failover slot before Postgres 17, changing nothing', async () => {
    const db = await testDatabase();
    const [{ version }] = (await query<{ version: number }>(db.url, `SELECT current_setting('server_version_num')::int AS version`)) as [{ version: number }];
    if (version >= 170000) return; // the shared server is the system's; the 17+ case is in postgres-18.test.ts
    const error = await runSetup(db.url, options({ failoverSlot: true })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('source.failoverSlot needs Postgres 17 or newer') });
    expect(await untouched(db.url)).toBe(true);
  });

  it('PG_WAL_LEVEL on a server without logical decoding, changing nothing', async () => {
    const server = await startLocalPostgres({ walLevel: 'replica', durable: false });
    cleanups.push(() => server.stop());
    await installDemoSchema(server.url);
    const error = await runSetup(server.url, options()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PG_WAL_LEVEL', retriable: false });
    expect((error as Error).message).toContain('set wal_level = logical in postgresql.conf (ALTER SYSTEM SET wal_level = logical) and restart Postgres');
    expect(await untouched(server.url)).toBe(true);
  });

  it('PG_NO_REPLICATION for a role without REPLICATION, changing nothing', async () => {
    const role = uniqueName('carol');
    await query(serverUrl(), `CREATE ROLE ${role} LOGIN`);
    cleanups.push(async () => void (await query(serverUrl(), `DROP ROLE IF EXISTS ${role}`)));
    const db = await testDatabase(); // dropped before the role (cleanups run last first), which owns a table in it
    await query(db.url, `ALTER TABLE customers OWNER TO ${role}`);
    const error = await runSetup(withUrl(db.url, { user: role }), options({ tables: ['customers'] })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PG_NO_REPLICATION' });
    expect((error as Error).message).toContain(`ALTER ROLE ${role} REPLICATION`);
    expect(await untouched(db.url)).toBe(true);
  });

  it('PG_UNREACHABLE for a port nobody listens on', async () => {
    const port = await findFreePort();
    const error = await runSetup(`postgres://postgres@127.0.0.1:${port}/postgres`, options()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PG_UNREACHABLE', retriable: true });
    expect((error as Error).message).toContain(`127.0.0.1:${port}`);
  });
});

describe('teardown refuses clearly', () => {
  it('PG_SLOT_IN_USE while a consumer streams from the slot', async () => {
    const db = await testDatabase();
    const setup = options();
    await runSetup(db.url, setup);
    const consumer = new pg.Client({ connectionString: db.url, replication: 'database' } as pg.ClientConfig);
    consumer.on('error', () => undefined);
    await consumer.connect();
    // Never resolves: the connection switches to streaming (CopyBoth) until it is closed.
    void consumer.query(`START_REPLICATION SLOT ${setup.slot} LOGICAL 0/0 (proto_version '1', publication_names 'walaudit')`).catch(() => undefined);
    await expect.poll(async () => (await query(db.url, `SELECT active FROM pg_replication_slots WHERE slot_name = $1`, [setup.slot]))[0]?.active).toBe(true);

    const error = await runTeardown(db.url, { slot: setup.slot, publication: 'walaudit', log: () => undefined }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PG_SLOT_IN_USE' });
    expect((error as Error).message).toMatch(/PID \d+: stop walaudit/);
    expect(await query(db.url, `SELECT 1 FROM pg_publication WHERE pubname = 'walaudit'`)).toHaveLength(1);
    await consumer.end().catch(() => undefined);
  });
});
