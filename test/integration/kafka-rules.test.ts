import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort, runSetup } from '@walaudit/pg';
import { callApi } from '../support/api-client.js';
import { startLocalKafka, type LocalKafka } from '../support/kafka.js';
import { createTestDatabase, uniqueName, type TestDatabase } from '../support/postgres.js';
import { tempDir } from '../support/temp-dir.js';
import { localTokenOf, spawnWalaudit, type WalauditProcess } from '../support/walaudit-process.js';

interface Entry {
  op: string;
  after: Record<string, string | null> | null;
  retentionDays: number;
  action?: { name: string; by?: string; role?: string; change?: string };
}

/**
 * Run-time rules in distributed mode: the change is made through the writer's API, the reader
 * (which applies the rules, before Kafka) finds it in the store when it reaches its action.
 */
describe('distributed mode: audit rules changed at run time', () => {
  let kafka: LocalKafka;
  let db: TestDatabase;
  let admin: pg.Client;
  let walaudit: WalauditProcess;
  let port: number;
  let dataDir: string;
  let manager: string;
  let marker = 0;
  const prefix = uniqueName('krules');

  const api = (method: string, path: string, body?: unknown) => callApi(port, method, path, { token: manager, body: body === undefined ? undefined : JSON.stringify(body) });
  const entriesOf = async (table: string, op: string) => (await api('GET', `/api/entries?table=${table}&op=${op}&limit=1000`)).body.entries as Entry[];
  /** One partition: a mark stored means every transaction committed before it is stored. */
  const caughtUp = async () => {
    const id = String(++marker);
    await admin.query('INSERT INTO marks VALUES ($1)', [id]);
    const deadline = Date.now() + 60_000;
    while (!(await entriesOf('marks', 'insert')).some((entry) => entry.after?.id === id)) {
      if (Date.now() > deadline) throw new Error(`mark ${id} never stored: ${walaudit.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  beforeAll(async () => {
    [kafka, db] = await Promise.all([startLocalKafka(), createTestDatabase('krules')]);
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query('CREATE TABLE orders (id int PRIMARY KEY); CREATE TABLE notes (id int PRIMARY KEY); CREATE TABLE marks (id int PRIMARY KEY)');
    const slot = uniqueName('krules');
    await runSetup(db.url, { slot, publication: slot, tables: [], dryRun: false, log: () => {} });
    port = await findFreePort();
    dataDir = tempDir('krules');
    const env = {
      WALAUDIT_SOURCE_SLOT: slot,
      WALAUDIT_SOURCE_PUBLICATION: slot,
      WALAUDIT_KAFKA_BROKERS: kafka.brokers.join(','),
      WALAUDIT_KAFKA_TOPIC_PREFIX: prefix,
      WALAUDIT_KAFKA_GROUP_ID: `${prefix}-writers`,
      WALAUDIT_KAFKA_PARTITIONS: '1',
      WALAUDIT_KAFKA_SESSION_TIMEOUT_MS: '6000',
      WALAUDIT_PIPELINE_FLUSH_INTERVAL_MS: '50',
    };
    walaudit = spawnWalaudit(['start', '--mode', 'distributed', '--services', 'all', '--source', db.url, '--data-dir', dataDir, '--http-port', String(port)], env);
    await walaudit.waitFor((status) => status.state === 'running' && (status.kafka?.partitions.length ?? 0) === 1, 90_000);
    manager = localTokenOf(dataDir)!;
  });

  afterAll(async () => {
    if (walaudit) await walaudit.stop('SIGTERM');
    await admin?.end();
    await kafka?.stop();
    await db?.drop();
  });

  it('an exclude and a retention override made through the writer apply from the next transaction, recorded in the trail', async () => {
    await admin.query('INSERT INTO orders VALUES (1)');
    await caughtUp();
    const excluded = await api('POST', '/api/rules', { action: 'exclude', table: 'orders' });
    expect(excluded.status).toBe(201);
    expect((await api('PUT', '/api/retention/notes', { days: 3 })).status).toBe(200);
    await admin.query('INSERT INTO orders VALUES (2); INSERT INTO notes VALUES (2)');
    await caughtUp();
    expect((await entriesOf('orders', 'insert')).map((entry) => entry.after?.id)).toEqual(['1']);
    expect((await entriesOf('notes', 'insert')).map((entry) => entry.retentionDays)).toEqual([3]);
    const [action] = await entriesOf('orders', 'action');
    expect(action!.action).toMatchObject({ name: 'rules.exclude', by: 'local', role: 'manager', change: (excluded.body.change as { id: string }).id });

    expect((await api('DELETE', '/api/rules/orders/exclude')).status).toBe(200);
    await admin.query('INSERT INTO orders VALUES (3)');
    await caughtUp();
    expect((await entriesOf('orders', 'insert')).map((entry) => entry.after?.id).sort()).toEqual(['1', '3']);
  });

  it('a rules action written into the WAL by hand changes nothing', async () => {
    await admin.query(`SELECT pg_logical_emit_message(true, 'walaudit.action', '{"name": "rules.exclude", "table": "public.notes", "change": "00000000deadbeef"}')`);
    await admin.query('INSERT INTO notes VALUES (4)');
    await caughtUp();
    expect((await entriesOf('notes', 'insert')).map((entry) => entry.after?.id).sort()).toEqual(['2', '4']);
    expect(walaudit.stderr()).toContain('no such change was saved through the API');
  });
});
