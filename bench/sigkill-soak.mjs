// SIGKILL soak: `walaudit start` is killed with SIGKILL at random points while a workload of
// inserts, updates and deletes streams through it, and started again each time; at the end every
// change must be stored exactly once, no entry id twice, and the hash chains must verify.
//
//   node bench/sigkill-soak.mjs [--changes 1000000] [--rows-per-statement 5000] [--kills 8] [--seed N]
//
// Prints the figures as one JSON line (changes, entries, duplicates, verify, kills, ...) and exits 1
// when any check fails. The integration test test/integration/sigkill-soak.test.ts runs the same
// function over 200k changes. Builds are not made here: run `npx turbo run build` first.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { parseLsn, verifyAuditLog } from '@walaudit/core';
import { createClickHouseStore } from '@walaudit/clickhouse';
import { findFreePort, runSetup, startLocalPostgres } from '@walaudit/pg';
import { seededRandom } from './seeded-random.mjs';

const CLI = fileURLToPath(new URL('../services/cli/bin/walaudit.js', import.meta.url));
const SLOT = 'walaudit_soak';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Batches of `rows` ids: each id is inserted once, then the first half of the batch is updated
 * once and the second half deleted once, each statement its own transaction. So every
 * (table, id, op) written is written exactly once, and 2 * rows changes are made per batch.
 */
async function writeWorkload(url, { batches, rows, pauseMs, stopped }) {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    for (let b = 0; b < batches && !stopped(); b++) {
      const from = b * rows + 1;
      const half = from + rows / 2;
      const to = from + rows - 1;
      await client.query(`INSERT INTO soak SELECT g, 0, 'change ' || g FROM generate_series($1::int, $2::int) AS g`, [from, to]);
      await client.query(`UPDATE soak SET v = 1 WHERE id BETWEEN $1 AND $2`, [from, half - 1]);
      await client.query(`DELETE FROM soak WHERE id BETWEEN $1 AND $2`, [half, to]);
      if (pauseMs > 0) await sleep(pauseMs);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

function spawnStart(args) {
  const child = spawn(process.execPath, [CLI, 'start', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited, stderr: () => stderr };
}

/** Entries the running start stored since it started (its /api/status), 0 when it does not answer. */
async function entriesStored(port, dataDir) {
  try {
    const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
    const response = await fetch(`http://127.0.0.1:${port}/api/status`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(2_000) });
    return response.ok ? Number((await response.json()).entriesStored ?? 0) : 0;
  } catch {
    return 0;
  }
}

/**
 * Until the running start stored its first entries (it is in the middle of the stream), or
 * `timeoutMs` passed (nothing left to stream: the kill then comes anyway).
 */
async function waitForFirstEntries(port, dataDir, start, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && (await entriesStored(port, dataDir)) === 0) {
    if (start.child.exitCode !== null) throw new Error(`walaudit start ended before streaming\n${start.stderr()}`);
    await sleep(100);
  }
}

/**
 * Until the running start answers on its API, which it opens just before it takes over SIGTERM: a
 * SIGTERM while it is still loading ends it the default way (by the signal), not by a clean stop.
 */
async function waitUntilServing(port, dataDir, start, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
      const response = await fetch(`http://127.0.0.1:${port}/api/status`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      // not listening yet, or the token file not yet written
    }
    if (start.child.exitCode !== null) throw new Error(`walaudit start ended before serving\n${start.stderr()}`);
    if (Date.now() > deadline) throw new Error(`walaudit start did not answer on its API within ${timeoutMs} ms\n${start.stderr()}`);
    await sleep(100);
  }
}

async function confirmedLsn(url) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT confirmed_flush_lsn::text AS lsn, pg_current_wal_lsn()::text AS server FROM pg_replication_slots WHERE slot_name = $1`, [SLOT]);
    return rows[0];
  } finally {
    await client.end();
  }
}

/**
 * Counts what the store holds, every physical copy included (a replayed entry stored twice would
 * show as a duplicate id even before ClickHouse merges it away), against what was written.
 */
async function checkStore(dataDir, { batches, rows }) {
  const maxId = batches * rows;
  const counts = { insert: new Uint8Array(maxId + 1), update: new Uint8Array(maxId + 1), delete: new Uint8Array(maxId + 1) };
  const store = createClickHouseStore({ dataDir, database: 'walaudit' });
  try {
    const seen = new Set();
    let entries = 0;
    let duplicates = 0;
    let unexpected = 0;
    for await (const link of store.readChain()) {
      entries++;
      if (seen.has(link.id)) duplicates++;
      else seen.add(link.id);
      const event = JSON.parse(link.body);
      const id = Number(event.pk?.id);
      const count = counts[event.op];
      if (event.table !== 'soak' || !count || !(id >= 1 && id <= maxId)) unexpected++;
      else if (count[id] < 255) count[id]++;
    }
    let missing = 0;
    let stored_twice = 0;
    for (let id = 1; id <= maxId; id++) {
      const inFirstHalf = (id - 1) % rows < rows / 2;
      const expected = { insert: 1, update: inFirstHalf ? 1 : 0, delete: inFirstHalf ? 0 : 1 };
      for (const op of ['insert', 'update', 'delete']) {
        const got = counts[op][id];
        if (got < expected[op]) missing++;
        else if (got > expected[op]) stored_twice++;
      }
    }
    const report = await verifyAuditLog(store);
    return { entries, duplicates, missing, storedTwice: stored_twice, unexpected, verify: report.ok ? 'intact' : `BROKEN: ${report.problem?.kind} at ${report.problem?.id}`, entriesVerified: report.entriesChecked };
  } finally {
    await store.close();
  }
}

/**
 * Runs the soak on its own Postgres and data directory and returns the figures; `ok` is true when
 * every change was stored exactly once, no id twice, and the chains verify.
 */
export async function runSigkillSoak(options = {}) {
  const changes = options.changes ?? 200_000;
  const rows = options.rowsPerStatement ?? 2_000;
  if (rows % 2 !== 0) throw new Error('rowsPerStatement must be even');
  const batches = Math.ceil(changes / (2 * rows));
  const kills = options.kills ?? 6;
  const seed = options.seed ?? Date.now() % 2 ** 31;
  const log = options.log ?? (() => undefined);
  const random = seededRandom(seed);
  const between = (min, max) => Math.round(min + random() * (max - min));
  const started = performance.now();

  const server = await startLocalPostgres({ durable: false });
  const dir = mkdtempSync(join(tmpdir(), 'walaudit-soak-'));
  let current = null;
  try {
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('CREATE TABLE soak (id int PRIMARY KEY, v int NOT NULL, payload text NOT NULL)');
    await admin.end();
    await runSetup(server.url, { slot: SLOT, publication: SLOT, tables: ['soak'], dryRun: false, log: () => undefined });
    const config = join(dir, 'walaudit.yaml');
    writeFileSync(config, 'pipeline:\n  retryInitialMs: 100\n  retryMaxMs: 1000\n  heartbeatIntervalMs: 1000\n');
    const dataDir = join(dir, 'data');
    const port = await findFreePort();
    const args = ['--config', config, '--source', server.url, '--data-dir', dataDir, '--http-port', String(port), '--slot', SLOT, '--publication', SLOT];

    let writing = true;
    const workload = writeWorkload(server.url, { batches, rows, pauseMs: options.pauseMs ?? 100, stopped: () => false }).finally(() => (writing = false));
    workload.catch(() => undefined);

    // Kill at random points until the workload is written and the kills asked for are done.
    const schedule = [];
    let killed = 0;
    let killedWhileStreaming = 0;
    for (let round = 0; (killed < kills || writing) && round < kills * 4; round++) {
      const before = (await confirmedLsn(server.url)).lsn;
      current = spawnStart(args);
      // Every fourth kill hits the start-up (store opening, migrations, slot lookup); the others land
      // a random time after the run stored its first entries, whatever the machine's speed.
      const duringStartup = round % (options.startupKillEvery ?? 4) === 3;
      if (!duringStartup) await waitForFirstEntries(port, dataDir, current, 30_000);
      const upMs = duringStartup ? between(100, 1_500) : between(options.minUpMs ?? 200, options.maxUpMs ?? 2_500);
      const outcome = await Promise.race([current.exited, sleep(upMs).then(() => null)]);
      if (outcome) throw new Error(`walaudit start ended by itself (${JSON.stringify(outcome)}) before its SIGKILL; seed ${seed}\n${current.stderr()}`);
      const storedBefore = await entriesStored(port, dataDir);
      current.child.kill('SIGKILL');
      await current.exited;
      killed++;
      schedule.push(duringStartup ? `start-up +${upMs} ms` : `streaming +${upMs} ms`);
      // It had stored entries of this run when it died: killed in the middle of the stream.
      if (storedBefore > 0) killedWhileStreaming++;
      log(`kill ${killed} ${schedule.at(-1)}: ${storedBefore} entries stored by this run; slot confirmed at ${before}`);
    }
    await workload;
    const endLsn = (await confirmedLsn(server.url)).server;

    // The last start catches up (heartbeats carry the slot past the last commit) and stops cleanly.
    current = spawnStart(args);
    const deadline = Date.now() + (options.catchUpTimeoutMs ?? 600_000);
    for (;;) {
      const slot = await confirmedLsn(server.url);
      if (slot.lsn && parseLsn(slot.lsn) >= parseLsn(endLsn)) break;
      if (current.child.exitCode !== null) throw new Error(`walaudit start ended while catching up; seed ${seed}\n${current.stderr()}`);
      if (Date.now() > deadline) throw new Error(`the slot stayed at ${slot.lsn}, before ${endLsn}; seed ${seed}\n${current.stderr()}`);
      await sleep(250);
    }
    await waitUntilServing(port, dataDir, current, 120_000);
    current.child.kill('SIGTERM');
    const last = await current.exited;
    if (last.code !== 0) throw new Error(`walaudit start did not stop cleanly on SIGTERM (${JSON.stringify(last)}); seed ${seed}\n${current.stderr()}`);
    current = null;

    const figures = await checkStore(dataDir, { batches, rows });
    const written = batches * rows * 2;
    const ok = figures.entries === written && figures.duplicates === 0 && figures.missing === 0 && figures.storedTwice === 0 && figures.unexpected === 0 && figures.verify === 'intact';
    return { ok, changes: written, ...figures, kills: killed, killedWhileStreaming, killAfterMs: schedule, rowsPerStatement: rows, seed, seconds: Math.round((performance.now() - started) / 100) / 10 };
  } finally {
    if (current && current.child.exitCode === null) {
      current.child.kill('SIGKILL');
      await current.exited;
    }
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function flag(name, fallback) {
  const index = process.argv.indexOf(name);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const figures = await runSigkillSoak({
    changes: flag('--changes', 1_000_000),
    rowsPerStatement: flag('--rows-per-statement', 5_000),
    kills: flag('--kills', 8),
    seed: flag('--seed', undefined),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify(figures)}\n`);
  process.exitCode = figures.ok ? 0 : 1;
}
