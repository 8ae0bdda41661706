import pg from 'pg';
import { findFreePort, runSetup } from '@walaudit/pg';
import { callApi } from './api-client.js';
import { createTestDatabase, uniqueName, type TestDatabase } from './postgres.js';
import { localTokenOf, spawnWalaudit, type WalauditProcess } from './walaudit-process.js';
import { tempDir } from './temp-dir.js';

/**
 * A real `walaudit start` on a throwaway database for the console's browser tests: customers with
 * a value of every kind people read differently (boolean, array, JSON, timestamptz), their orders
 * (ON DELETE CASCADE), invoices to delete in bulk, sessions to exclude, marks to wait on.
 */
export interface ConsoleFixture {
  db: TestDatabase;
  admin: pg.Client;
  start: WalauditProcess;
  port: number;
  base: string;
  manager: string;
  viewer: string;
  viewerId: string;
  /** Entries of `table` (and `op`), newest first, as the API lists them. */
  entries(table: string, op?: string): Promise<{ id: string; op: string; after: Record<string, string | null> | null; before: Record<string, string | null> | null }[]>;
  /** Waits until every transaction committed so far is in the log. */
  caughtUp(): Promise<void>;
  close(): Promise<void>;
}

export async function startConsoleFixture(): Promise<ConsoleFixture> {
  const db = await createTestDatabase('console');
  const admin = new pg.Client({ connectionString: db.url, application_name: 'psql' });
  await admin.connect();
  await admin.query(`
    CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, vip boolean, tags text[], profile jsonb, signed_up timestamptz);
    CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers ON DELETE CASCADE, total numeric(10,2));
    CREATE TABLE invoices (id int PRIMARY KEY, total numeric);
    CREATE TABLE sessions (id int PRIMARY KEY, who text);
    CREATE TABLE marks (id int PRIMARY KEY);
    INSERT INTO invoices SELECT g, g FROM generate_series(1, 500) g;
  `);
  const slot = uniqueName('console');
  await runSetup(db.url, { slot, publication: slot, tables: [], dryRun: false, log: () => {} });
  const port = await findFreePort();
  const dataDir = tempDir('console');
  const start = spawnWalaudit(['start', '--source', db.url, '--data-dir', dataDir, '--http-port', String(port), '--slot', slot, '--publication', slot], { WALAUDIT_ALERTS_THRESHOLD: '100' });
  await start.waitFor((status) => status.state === 'running');
  const manager = localTokenOf(dataDir)!;
  const created = await callApi(port, 'POST', '/api/tokens', { token: manager, body: JSON.stringify({ name: 'auditor', role: 'viewer' }) });
  if (created.status !== 201 && created.status !== 200) throw new Error(`could not create a viewer token: ${created.text}`);
  let marker = 0;
  const entries: ConsoleFixture['entries'] = async (table, op) => {
    const answer = await callApi(port, 'GET', `/api/entries?table=${table}&limit=1000${op ? `&op=${op}` : ''}`, { token: manager });
    if (answer.status !== 200) throw new Error(`GET /api/entries: ${answer.text}`);
    return answer.body.entries as Awaited<ReturnType<ConsoleFixture['entries']>>;
  };
  const caughtUp = async () => {
    const id = ++marker;
    await admin.query('INSERT INTO marks VALUES ($1)', [id]);
    const deadline = Date.now() + 30_000;
    while (!(await entries('marks', 'insert')).some((entry) => entry.after?.id === String(id))) {
      if (Date.now() > deadline) throw new Error(`mark ${id} never reached the log: ${start.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  return {
    db,
    admin,
    start,
    port,
    base: `http://127.0.0.1:${port}`,
    manager,
    viewer: created.body.token as string,
    viewerId: created.body.id as string,
    entries,
    caughtUp,
    close: async () => {
      await start.kill('SIGTERM');
      await admin.end();
      await db.drop();
    },
  };
}
