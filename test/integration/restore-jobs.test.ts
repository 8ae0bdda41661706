import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { findFreePort, runSetup } from '@walaudit/pg';
import { createBullRestoreQueue, type RestoreJobStatus, type RestoreQueue } from '@walaudit/restorer';
import { createTestDatabase, uniqueName, type TestDatabase } from '../support/postgres.js';
import { startLocalRedis, type LocalRedis } from '../support/redis.js';
import { spawnWalaudit, runWalaudit, type WalauditProcess } from '../support/walaudit-process.js';
import { tempDir } from '../support/temp-dir.js';
import { CASCADE_DDL, CASCADE_FILL_ENTRIES, fillCascadeData, snapshotTables } from '../support/cascade-fixture.js';

const BIG = 20_000;

/**
 * Restore jobs on BullMQ against Debian's redis-server: `walaudit start` (pipeline, correlator and a
 * restore worker) as a real process, `walaudit restore` submitting from another, and the worker
 * killed with SIGKILL while it writes.
 */
describe('restore jobs on Redis', () => {
  let db: TestDatabase;
  let redis: LocalRedis;
  let admin: pg.Client;
  let queue: RestoreQueue;
  let start: WalauditProcess | null = null;
  const slot = uniqueName('jobs');
  const dataDir = tempDir('jobs');
  const queueName = uniqueName('restore');
  let args: string[];
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    db = await createTestDatabase('jobs');
    redis = await startLocalRedis();
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query(CASCADE_DDL);
    await admin.query(`CREATE TABLE visits (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers ON DELETE CASCADE, at timestamptz NOT NULL, page text)`);
    await runSetup(db.url, { slot, publication: slot, tables: [], dryRun: false, log: () => {} });
    await fillCascadeData(admin);
    await admin.query(`INSERT INTO visits SELECT g, 1, '2024-01-01'::timestamptz + g * interval '1 second', 'page ' || g FROM generate_series(1, ${BIG}) g`);
    const port = await findFreePort();
    args = ['start', '--source', db.url, '--data-dir', dataDir, '--http-port', String(port), '--slot', slot, '--publication', slot];
    env = { WALAUDIT_HTTP_PORT: String(port), WALAUDIT_CASCADE_REDIS_URL: redis.url, WALAUDIT_CASCADE_QUEUE: queueName, WALAUDIT_CASCADE_JOB_LOCK_MS: '1500', WALAUDIT_CASCADE_BATCH_ROWS: '50' };
    queue = createBullRestoreQueue({ redisUrl: redis.url, queue: queueName, attempts: 3 });
  });

  afterAll(async () => {
    await start?.kill('SIGTERM');
    await queue?.close();
    await admin?.end();
    await redis?.stop();
    await db?.drop();
  });

  it('finishes a job whose worker was killed mid-write, without duplicating a row; the same request again restores nothing', async () => {
    start = spawnWalaudit(args, env);
    await start.waitFor((status) => status.state === 'running');
    const snapshot = await snapshotTables(admin);
    const visits = await admin.query('SELECT md5(string_agg(row_to_json(v)::text, \',\' ORDER BY id)) AS sum FROM visits v');

    const storedBefore = (await start.waitFor((status) => status.entriesStored >= CASCADE_FILL_ENTRIES + BIG, 120_000)).entriesStored;
    await admin.query('DELETE FROM customers WHERE id = 1');
    await start.waitFor((status) => status.entriesStored >= storedBefore + BIG + 12, 120_000);
    const log = await runWalaudit(['log', '--table', 'customers', '--op', 'delete', '--limit', '1', '--json'], env);
    const rootId = (JSON.parse(log.stdout) as { id: string }).id;
    // Links are stored with the batch, before the slot moves: wait until the tree is complete.
    for (let i = 0; ; i++) {
      const tree = await runWalaudit(['log', '--caused-by', rootId, '--json'], env);
      if (tree.stdout.trim().split('\n').length >= BIG + 11) break;
      if (i > 300) throw new Error(`cascade links incomplete: ${tree.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    const submitted = await runWalaudit(['restore', '--cascade', rootId, '--user', 'oncall-ann', '--json'], env);
    expect(submitted.code).toBe(0);
    const job = JSON.parse(submitted.stdout) as RestoreJobStatus;
    expect(job.id).toBe(`restore-cascade-${rootId}-fail`);

    // Kill the worker (the whole start process) while it writes.
    let seen: RestoreJobStatus | null = null;
    for (let i = 0; i < 3000; i++) {
      seen = await queue.status(job.id);
      if (seen?.progress?.phase === 'writing' && seen.progress.done > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(seen?.progress?.phase).toBe('writing');
    expect(await start.kill('SIGKILL')).toBeNull();
    expect((await queue.status(job.id))!.state).toBe('active');
    const partial = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM visits v');
    expect(partial.rows[0]!.n).toBe(0);

    // Distributed mode's worker alone takes the stalled job over.
    start = spawnWalaudit(['start', '--services', 'restorer', '--source', db.url, '--data-dir', dataDir], env);
    let done: RestoreJobStatus | null = null;
    for (let i = 0; i < 600; i++) {
      done = await queue.status(job.id);
      if (done?.state === 'completed' || done?.state === 'failed') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(done).toMatchObject({ state: 'completed', report: { outcome: 'ok', restored: BIG + 11, updated: 1 } });
    expect(start.stderr()).toContain(`restore worker on queue ${queueName}`);
    expect(await snapshotTables(admin)).toEqual(snapshot);
    expect((await admin.query('SELECT md5(string_agg(row_to_json(v)::text, \',\' ORDER BY id)) AS sum FROM visits v')).rows).toEqual(visits.rows);

    const again = await runWalaudit(['restore', '--cascade', rootId, '--wait', '--json'], env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ outcome: 'ok', restored: BIG + 11 });
    expect((await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM visits v')).rows[0]!.n).toBe(BIG);

    const status = await runWalaudit(['restore', '--status', job.id], env);
    expect(status.stdout).toContain(`restore job ${job.id}: completed`);
    expect(status.stdout).toContain('asked by oncall-ann');
    expect(status.stdout).toContain(`public.visits: ${BIG}`);
  });
});
