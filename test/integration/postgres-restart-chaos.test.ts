import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLsn } from '@walaudit/core';
import { createClickHouseStore } from '@walaudit/clickhouse';
import { findFreePort, PgReplicationSource, runSetup, SlotMonitor } from '@walaudit/pg';
import { seededRandom } from '../../bench/seeded-random.mjs';
import { connect, query } from '../support/postgres.js';
import { startRestartablePostgres, type RestartablePostgres } from '../support/restartable-postgres.js';
import { runWalaudit, spawnWalaudit, type WalauditProcess } from '../support/walaudit-process.js';
import { tempDir } from '../support/temp-dir.js';

const RESTARTS = 5;
const ROWS_PER_TX = 20;
/** The bound `walaudit start` promises between SIGTERM and its exit (see pipelines/stop-deadline.ts). */
const STOP_BOUND_MS = 10_000;
const SLOT = 'walaudit_chaos';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Small insert transactions, one after another, for as long as it runs. Each statement is its own
 * transaction; one whose outcome the restart hid is settled at the end by reading what Postgres has.
 */
function startChangeStream(url: string) {
  let running = true;
  const loop = (async () => {
    let client: pg.Client | null = null;
    let next = 1;
    while (running) {
      try {
        client ??= await connect(url);
        const from = next;
        next += ROWS_PER_TX;
        await client.query(`INSERT INTO chaos_events SELECT g, 'change ' || g FROM generate_series($1::int, $2::int) AS g`, [from, from + ROWS_PER_TX - 1]);
        await sleep(15);
      } catch {
        await client?.end().catch(() => undefined);
        client = null;
        await sleep(50);
      }
    }
    await client?.end().catch(() => undefined);
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** walaudit's connections to the server, by application_name. */
async function walauditConnections(url: string): Promise<Record<string, number>> {
  const rows = await query<{ name: string; count: number }>(
    url,
    `SELECT application_name AS name, count(*)::int AS count FROM pg_stat_activity WHERE application_name LIKE 'walaudit%' GROUP BY 1`,
  );
  return Object.fromEntries(rows.map((row) => [row.name, row.count]));
}

async function waitForNoConnections(url: string, name: string): Promise<number> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const count = (await walauditConnections(url))[name] ?? 0;
    if (count === 0 || Date.now() > deadline) return count;
    await sleep(50);
  }
}

/** SIGTERM: exit code 0 within the bound, by a clean stop (not the forced exit at the deadline). */
async function expectStopWithinBound(walaudit: WalauditProcess, context: () => string): Promise<void> {
  const signalledAt = Date.now();
  walaudit.child.kill('SIGTERM');
  const code = await Promise.race([walaudit.exited, sleep(STOP_BOUND_MS + 2_000).then(() => 'still running' as const)]);
  const stopMs = Date.now() - signalledAt;
  expect(code, `SIGTERM, then ${stopMs} ms; ${context()}`).toBe(0);
  expect(stopMs).toBeLessThan(STOP_BOUND_MS);
  expect(walaudit.stderr()).toContain('stopped cleanly');
  expect(walaudit.stderr()).not.toMatch(/exiting now/);
}

describe('Postgres restarted (immediate stop) under a running walaudit start', () => {
  let server: RestartablePostgres;
  let walaudit: WalauditProcess | undefined;
  const dir = tempDir('chaos');
  const dataDir = join(dir, 'data');
  const config = join(dir, 'walaudit.yaml');
  let port: number;

  beforeAll(async () => {
    server = await startRestartablePostgres();
    await query(server.url, 'CREATE TABLE chaos_events (id int PRIMARY KEY, payload text NOT NULL)');
    await runSetup(server.url, { slot: SLOT, publication: SLOT, tables: [], dryRun: false, log: () => {} });
    // Quick reconnects. Heartbeats every 2.5 s share a tick with the 5 s lag check: both then find
    // the monitor's connection gone after a restart and reconnect at once.
    writeFileSync(config, 'pipeline:\n  retryInitialMs: 100\n  retryMaxMs: 1000\n  heartbeatIntervalMs: 2500\n');
    port = await findFreePort();
  });

  afterAll(async () => {
    if (walaudit && walaudit.child.exitCode === null && walaudit.child.signalCode === null) await walaudit.kill('SIGKILL');
    await server?.stop();
  });

  it('survives every restart, stores each committed change once, and stops on SIGTERM within the bound', async () => {
    const seed = Number(process.env.WALAUDIT_CHAOS_SEED ?? Date.now() % 2 ** 31);
    const random = seededRandom(seed);
    const between = (min: number, max: number) => Math.round(min + random() * (max - min));
    const args = ['start', '--config', config, '--source', server.url, '--data-dir', dataDir, '--http-port', String(port), '--slot', SLOT, '--publication', SLOT];
    const first = spawnWalaudit(args);
    walaudit = first;
    let diedAt: string | null = null;
    const schedule: string[] = [];
    void first.exited.then((code) => (diedAt ??= `exit code ${code} after: ${schedule.join(', ') || 'nothing'}`));
    const context = () => `seed ${seed} (WALAUDIT_CHAOS_SEED replays it); ${schedule.join(', ')}\n${first.stderr()}`;

    await first.waitFor((status) => status.state === 'running', 30_000);
    const stream = startChangeStream(server.url);
    try {
      for (let restart = 1; restart <= RESTARTS && diedAt === null; restart++) {
        const streaming = between(300, 2_500);
        const down = between(0, 800);
        schedule.push(`#${restart}: up ${streaming} ms, down ${down} ms`);
        await sleep(streaming);
        await server.crash();
        await sleep(down);
        await server.start();
      }
      // Streams a little on the last start too, so walaudit is reading when the stream ends.
      await sleep(1_000);
    } finally {
      await stream.stop();
    }
    expect(diedAt, context()).toBeNull();

    const committed = (await query<{ id: number }>(server.url, 'SELECT id FROM chaos_events ORDER BY id')).map((row) => row.id);
    expect(committed.length).toBeGreaterThan(0);
    // Heartbeats carry the confirmed position past the last commit once everything is stored.
    const endLsn = (await query<{ lsn: string }>(server.url, 'SELECT pg_current_wal_lsn()::text AS lsn'))[0]!.lsn;
    const deadline = Date.now() + 45_000;
    for (;;) {
      const [slot] = await query<{ lsn: string }>(server.url, 'SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [SLOT]);
      if (parseLsn(slot!.lsn) >= parseLsn(endLsn)) break;
      if (Date.now() > deadline) throw new Error(`the slot stayed at ${slot!.lsn}, before ${endLsn}; ${context()}`);
      if (diedAt !== null) throw new Error(`walaudit died: ${diedAt}; ${context()}`);
      await sleep(200);
    }
    expect(diedAt, context()).toBeNull();

    // One connection per role at most: a second one is a client some path opened and never closed.
    const connections = await walauditConnections(server.url);
    expect(Object.entries(connections).filter(([, count]) => count > 1), context()).toEqual([]);

    await expectStopWithinBound(first, context);

    // The store was released: another process opens it, and a new `start` on it runs.
    const verify = await runWalaudit(['verify', '--data-dir', dataDir, '--http-port', String(port)]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toContain('entries verified');
    // And stopped while Postgres is down, in its reconnect loop, it still ends within the bound.
    const again = spawnWalaudit(args);
    walaudit = again;
    await again.waitFor((status) => status.state === 'running', 30_000);
    await server.crash();
    await sleep(500);
    try {
      await expectStopWithinBound(again, () => again.stderr());
    } finally {
      await server.start();
    }

    const store = createClickHouseStore({ dataDir, database: 'walaudit' });
    try {
      const inserted = await store.queryLog({ table: 'chaos_events', op: 'insert', limit: committed.length + 1_000 });
      const ids = inserted.map((entry) => Number(entry.pk?.id));
      expect(ids.length, 'entries stored for the committed rows').toBe(committed.length);
      expect([...new Set(ids)].sort((a, b) => a - b)).toEqual(committed);
    } finally {
      await store.close();
    }
  });

  it('the slot monitor shares one connection between calls at once, and opens none once closed', async () => {
    const monitor = new SlotMonitor(server.url, SLOT);
    await Promise.all([monitor.state(), monitor.heartbeat(), monitor.state()]);
    expect((await walauditConnections(server.url))['walaudit-monitor']).toBe(1);
    // Closed while a connect is under way: that connection is abandoned too.
    const closing = new SlotMonitor(server.url, SLOT);
    const pending = closing.heartbeat().catch((error: unknown) => error);
    await Promise.all([monitor.close(), closing.close()]);
    expect(await pending).toMatchObject({ code: 'PG_UNREACHABLE' });
    await expect(monitor.state()).rejects.toMatchObject({ code: 'PG_UNREACHABLE' });
    expect(await waitForNoConnections(server.url, 'walaudit-monitor')).toBe(0);
  });

  it('a replication source stopped during its slot lookup ends at once and leaves no connection', async () => {
    const source = new PgReplicationSource({ url: server.url, slot: SLOT, publication: SLOT });
    const running = source.run(() => {});
    await source.stop();
    await running;
    expect(await waitForNoConnections(server.url, 'walaudit-catalog')).toBe(0);
  });
});
