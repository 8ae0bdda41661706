import type pg from 'pg';
import { findFreePort, runSetup } from '@walaudit/pg';
import { callApi, type ApiAnswer } from './api-client.js';
import { connect, createTestDatabase, uniqueName, type TestDatabase } from './postgres.js';
import { tempDir } from './temp-dir.js';
import { localTokenOf, spawnWalaudit, type WalauditProcess } from './walaudit-process.js';

export interface ApiFixtureOptions {
  /** SQL run on the fresh database before setup: the tables the test audits. */
  schema?: string;
  /** Environment of `walaudit start` (WALAUDIT_* options). */
  env?: NodeJS.ProcessEnv;
  /** Name of the viewer token created through the API (an audited action); null for none. */
  viewerName?: string | null;
}

/**
 * `walaudit start` on a throwaway Postgres database, as a user runs it: its own slot,
 * publication, data directory and port, the local manager token it writes, and a viewer token
 * created through the API.
 */
export interface ApiFixture {
  db: TestDatabase;
  /** A superuser connection to the audited database. */
  admin: pg.Client;
  start: WalauditProcess;
  port: number;
  dataDir: string;
  slot: string;
  /** The local token `start` writes into its data directory: a manager. */
  manager: string;
  /** Empty when viewerName is null. */
  viewer: string;
  viewerId: string;
  /** A request; `token` defaults to the manager's, null sends none; a body other than a string goes as JSON. */
  call(method: string, path: string, options?: { token?: string | null; body?: unknown; headers?: Record<string, string> }): Promise<ApiAnswer>;
  /** A GET that must answer 200, as the viewer unless told. */
  get<T>(path: string, token?: string): Promise<T>;
  /** Stops `start` and starts it again on the same database, slot and data directory. */
  restart(): Promise<WalauditProcess>;
  /** Stops `start`, closes the connection, drops the database. */
  close(): Promise<void>;
}

export async function startApiFixture(name: string, options: ApiFixtureOptions = {}): Promise<ApiFixture> {
  const db = await createTestDatabase(name.replaceAll('-', '_'));
  const admin = await connect(db.url);
  if (options.schema) await admin.query(options.schema);
  const slot = uniqueName(name.replaceAll('-', '').slice(0, 8));
  await runSetup(db.url, { slot, publication: slot, tables: [], dryRun: false, log: () => {} });
  const port = await findFreePort();
  const dataDir = tempDir(name);
  const args = ['start', '--source', db.url, '--data-dir', dataDir, '--http-port', String(port), '--slot', slot, '--publication', slot];
  const spawnRunning = async () => {
    const process = spawnWalaudit(args, options.env);
    await process.waitFor((status) => status.state === 'running');
    return process;
  };

  const fixture: ApiFixture = {
    db,
    admin,
    start: await spawnRunning(),
    port,
    dataDir,
    slot,
    manager: '',
    viewer: '',
    viewerId: '',
    call: (method, path, { token, body, headers } = {}) =>
      callApi(port, method, path, { token: token === null ? undefined : (token ?? fixture.manager), headers, body: body === undefined || typeof body === 'string' ? body : JSON.stringify(body) }),
    async get<T>(path: string, token = fixture.viewer): Promise<T> {
      const answer = await fixture.call('GET', path, { token });
      if (answer.status !== 200) throw new Error(`GET ${path}: ${answer.status} ${answer.text}`);
      return answer.body as T;
    },
    async restart() {
      await fixture.start.stop('SIGTERM');
      fixture.start = await spawnRunning();
      return fixture.start;
    },
    async close() {
      await fixture.start.kill('SIGTERM');
      await admin.end();
      await db.drop();
    },
  };
  fixture.manager = localTokenOf(dataDir) ?? '';
  if (!fixture.manager) throw new Error(`walaudit start wrote no local token into ${dataDir}\n${fixture.start.stderr()}`);
  const viewerName = options.viewerName === undefined ? 'viewer-under-test' : options.viewerName;
  if (viewerName !== null) {
    const created = await fixture.call('POST', '/api/tokens', { body: { name: viewerName, role: 'viewer' } });
    if (created.status !== 201) throw new Error(`POST /api/tokens answered ${created.status}: ${created.text}`);
    fixture.viewer = created.body.token as string;
    fixture.viewerId = created.body.id as string;
  }
  return fixture;
}
