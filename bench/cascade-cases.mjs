// The cascade cases of `npm run bench`:
// - cascade1M: one DELETE of a customer whose ON DELETE CASCADE removes N rows (N/10 orders, the
//   rest order lines), read by `walaudit start` twice from two slots holding the same WAL: with
//   cascade links (the default) and without (WALAUDIT_CASCADE_LINKS=false). Events/s and peak RSS.
// - restore100k: the same shape with N rows, stored and linked by the pipeline in this process,
//   then `restore --cascade` of the root (runRestore, one transaction) against server-side COPY of
//   the same rows into empty copies of the tables (same keys, indexes and foreign keys). Rates, and
//   CPU: this process's during the restore (restorer and embedded store), the Postgres server's
//   during the restore and during the COPY.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Session } from 'node:inspector/promises';
import { writeFile } from 'node:fs/promises';
import { loadForeignKeys, runSetup, withClient, PgReplicationSource } from '@walaudit/pg';
import { createClickHouseStore, ClickHouseCascadeLinks } from '@walaudit/clickhouse';
import { createAuditWriter } from '@walaudit/audit-writer';
import { createWalReader } from '@walaudit/wal-reader';
import { createCorrelator } from '@walaudit/correlator';
import { runRestore } from '@walaudit/restorer';
import { runWalaudit } from './walaudit-run.mjs';
import { readPostmasterPid, readServerCpuSeconds } from './proc-memory.mjs';
import { dropSlots } from './workloads.mjs';

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** customers -> orders -> order lines, ON DELETE CASCADE, indexed foreign keys; `rows` rows under customer 1. */
async function prepareCascadeTables(client, prefix, rows) {
  const orders = Math.max(1, Math.floor(rows / 10));
  const lines = rows - orders;
  await client.query(`DROP TABLE IF EXISTS ${prefix}_lines, ${prefix}_orders, ${prefix}_customers CASCADE`);
  await client.query(`
    CREATE TABLE ${prefix}_customers (id bigint PRIMARY KEY, name text NOT NULL);
    CREATE TABLE ${prefix}_orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES ${prefix}_customers ON DELETE CASCADE,
      total numeric(12,2) NOT NULL, placed_at timestamptz NOT NULL);
    CREATE INDEX ON ${prefix}_orders (customer_id);
    CREATE TABLE ${prefix}_lines (id bigint PRIMARY KEY, order_id bigint NOT NULL REFERENCES ${prefix}_orders ON DELETE CASCADE,
      sku text NOT NULL, qty int NOT NULL);
    CREATE INDEX ON ${prefix}_lines (order_id);
    INSERT INTO ${prefix}_customers VALUES (1, 'bench customer');`);
  await client.query(`INSERT INTO ${prefix}_orders SELECT g, 1, (g % 10000) / 100.0, timestamptz '2026-01-01 00:00:00+00' + g * interval '1.5 second' FROM generate_series(1, $1::bigint) g`, [orders]);
  await client.query(`INSERT INTO ${prefix}_lines SELECT g, 1 + (g % $1::bigint), 'SKU-' || (g % 5000), (g % 9)::int + 1 FROM generate_series(1, $2::bigint) g`, [orders, lines]);
  await client.query(`ANALYZE ${prefix}_customers, ${prefix}_orders, ${prefix}_lines`);
  await client.query('CHECKPOINT');
  return { orders, lines, events: 1 + orders + lines };
}

async function deleteRoot(client, prefix) {
  const started = performance.now();
  await client.query(`DELETE FROM ${prefix}_customers WHERE id = 1`);
  const seconds = (performance.now() - started) / 1000;
  const { rows } = await client.query('SELECT pg_current_wal_flush_lsn()::text AS lsn');
  return { seconds, endLsn: rows[0].lsn };
}

export async function measureCascade(ctx, run, { rows, timeoutMs, log }) {
  const prefix = 'bench_c';
  const slots = ['walaudit_bench_links', 'walaudit_bench_nolinks'];
  await dropSlots(ctx.client, slots);
  let t = performance.now();
  const shape = await prepareCascadeTables(ctx.client, prefix, rows);
  log(`cascade run ${run}: ${shape.events} rows (${shape.orders} orders, ${shape.lines} lines) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  await runSetup(ctx.url, { slot: slots[0], publication: 'walaudit_bench_c', tables: [`public.${prefix}_customers`, `public.${prefix}_orders`, `public.${prefix}_lines`], dryRun: false, log: () => undefined });
  await ctx.client.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slots[1]]);
  const del = await deleteRoot(ctx.client, prefix);
  log(`cascade run ${run}: DELETE of the root removed ${shape.events} rows in ${del.seconds.toFixed(1)} s`);
  const result = {};
  for (const [mode, slot, links] of [['withLinks', slots[0], 'true'], ['withoutLinks', slots[1], 'false']]) {
    const measured = await runWalaudit({ url: ctx.url, slot, publication: 'walaudit_bench_c', target: shape.events, timeoutMs, log, env: { WALAUDIT_CASCADE_LINKS: links } });
    log(`cascade run ${run} ${mode}: ${measured.completed ? '' : 'INCOMPLETE '}${measured.seconds?.toFixed(2)} s = ${Math.round(measured.eventsPerSecond ?? 0)} events/s, peak RSS ${measured.peakRssMB?.toFixed(0)} MB`);
    result[mode] = { completed: measured.completed, seconds: round(measured.seconds), eventsPerSecond: round(measured.eventsPerSecond, 0), peakRssMB: round(measured.peakRssMB, 1) };
    await dropSlots(ctx.client, [slot]);
  }
  await ctx.client.query(`DROP PUBLICATION IF EXISTS walaudit_bench_c`);
  await ctx.client.query(`DROP TABLE IF EXISTS ${prefix}_lines, ${prefix}_orders, ${prefix}_customers CASCADE`);
  const overhead = result.withLinks.eventsPerSecond && result.withoutLinks.eventsPerSecond ? round(result.withLinks.eventsPerSecond / result.withoutLinks.eventsPerSecond) : null;
  return { run, events: shape.events, deleteSeconds: round(del.seconds), ...result, rateWithOverWithout: overhead };
}

export async function measureRestore(ctx, run, { rows, log }) {
  const prefix = 'bench_r';
  const slot = 'walaudit_bench_restore';
  await dropSlots(ctx.client, [slot]);
  const shape = await prepareCascadeTables(ctx.client, prefix, rows);
  const tables = ['customers', 'orders', 'lines'].map((t) => `${prefix}_${t}`);

  // COPY: the same rows, from files written by the server, into empty copies of the tables.
  const copyDir = await mkdtemp(join(tmpdir(), 'walaudit-bench-copy-'));
  await chmod(copyDir, 0o777); // the server (user postgres) writes and reads the files
  await ctx.client.query(`DROP TABLE IF EXISTS ${prefix}c_lines, ${prefix}c_orders, ${prefix}c_customers CASCADE`);
  await ctx.client.query(`
    CREATE TABLE ${prefix}c_customers (LIKE ${prefix}_customers INCLUDING ALL);
    CREATE TABLE ${prefix}c_orders (LIKE ${prefix}_orders INCLUDING ALL, FOREIGN KEY (customer_id) REFERENCES ${prefix}c_customers ON DELETE CASCADE);
    CREATE TABLE ${prefix}c_lines (LIKE ${prefix}_lines INCLUDING ALL, FOREIGN KEY (order_id) REFERENCES ${prefix}c_orders ON DELETE CASCADE);`);
  for (const table of tables) await ctx.client.query(`COPY ${table} TO '${join(copyDir, table)}'`).catch(async (error) => {
    throw new Error(`server-side COPY needs the server to write ${copyDir} (${error.message})`);
  });
  // CPU as well as time: what a row costs, less disturbed than wall time by other work on the machine.
  const postmaster = await postmasterPid(ctx.client);
  const serverCpu = () => (postmaster === null ? null : readServerCpuSeconds(postmaster));
  let pgCpu = serverCpu();
  let t = performance.now();
  await ctx.client.query('BEGIN');
  for (const table of tables) await ctx.client.query(`COPY ${table.replace(`${prefix}_`, `${prefix}c_`)} FROM '${join(copyDir, table)}'`);
  await ctx.client.query('COMMIT');
  const copySeconds = (performance.now() - t) / 1000;
  const copyPgCpuMs = cpuMsSince(pgCpu, serverCpu());
  await rm(copyDir, { recursive: true, force: true }).catch(() => undefined);
  await ctx.client.query(`DROP TABLE ${prefix}c_lines, ${prefix}c_orders, ${prefix}c_customers`);
  log(`restore run ${run}: COPY of ${shape.events} rows into empty copies: ${copySeconds.toFixed(2)} s = ${Math.round(shape.events / copySeconds)} rows/s`);

  await runSetup(ctx.url, { slot, publication: slot, tables: tables.map((x) => `public.${x}`), dryRun: false, log: () => undefined });
  const before = await snapshot(ctx.client, tables);
  const dataDir = await mkdtemp(join(tmpdir(), 'walaudit-bench-restore-'));
  const store = createClickHouseStore({ dataDir, database: 'walaudit' });
  await store.migrate();
  const links = new ClickHouseCascadeLinks(store);
  try {
    const correlator = createCorrelator({ links, entries: links, loadForeignKeys: () => withClient(ctx.url, 'walaudit-bench', (c) => loadForeignKeys(c)), refreshIntervalMs: 600_000 });
    await correlator.start();
    let stored = 0;
    const writer = createAuditWriter({ store, rules: { rules: [], defaultRetentionDays: 90 }, retry: { initialMs: 100, maxMs: 1000 }, observers: [(batch) => correlator.observe(batch)], onStored: (n) => (stored += n) });
    const { knownShapes } = await writer.init();
    const reader = createWalReader({ source: new PgReplicationSource({ url: ctx.url, slot, publication: slot }), sink: writer, knownShapes, options: { batchSize: 10_000, flushIntervalMs: 200 } });
    const reading = reader.run();
    await deleteRoot(ctx.client, prefix);
    while (stored < shape.events) await sleep(50);
    await sleep(500);
    await reader.stop();
    await reading.catch(() => undefined);
    const [root] = await store.queryLog({ table: `${prefix}_customers`, op: 'delete', limit: 1 });

    const phases = {};
    // BENCH_RESTORE_PROF=DIR: a CPU profile of this process during the restore only.
    const profiler = process.env.BENCH_RESTORE_PROF ? new Session() : null;
    if (profiler) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
      await profiler.post('Profiler.start');
    }
    pgCpu = serverCpu();
    const nodeCpu = process.cpuUsage();
    t = performance.now();
    const report = await runRestore(
      { entries: links, links, restoreUrl: ctx.url, rules: [], batchRows: Number(process.env.BENCH_RESTORE_BATCH_ROWS ?? 5_000) },
      { kind: 'cascade', entryId: root.id },
      { policy: 'fail', dryRun: false, requestedBy: 'bench', onProgress: (p) => (phases[p.phase] ??= (performance.now() - t) / 1000) },
    );
    const restoreSeconds = (performance.now() - t) / 1000;
    const { user, system } = process.cpuUsage(nodeCpu);
    // This process: the restorer and the embedded store (chDB's threads) reading the entries.
    const restoreCpuMs = { node: Math.round((user + system) / 1000), postgres: cpuMsSince(pgCpu, serverCpu()) };
    if (profiler) {
      const { profile } = await profiler.post('Profiler.stop');
      const file = join(process.env.BENCH_RESTORE_PROF, `restore-run${run}.cpuprofile`);
      await writeFile(file, JSON.stringify(profile));
      profiler.disconnect();
      log(`restore run ${run}: CPU profile of the restore in ${file}`);
    }
    if (report.outcome !== 'ok' || report.restored !== shape.events) throw new Error(`restore: ${JSON.stringify(report).slice(0, 500)}`);
    const identical = JSON.stringify(await snapshot(ctx.client, tables)) === JSON.stringify(before);
    const restoreRate = shape.events / restoreSeconds;
    const copyRate = shape.events / copySeconds;
    log(`restore run ${run}: restored ${report.restored} rows in ${restoreSeconds.toFixed(2)} s = ${Math.round(restoreRate)} rows/s (${(restoreRate / copyRate).toFixed(2)} of COPY); identical: ${identical}; phases start at ${JSON.stringify(Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, round(v)])))} s; CPU ms: restore ${restoreCpuMs.node} here + ${restoreCpuMs.postgres} Postgres, COPY ${copyPgCpuMs} Postgres; load ${loadavg()[0].toFixed(1)}`);
    return {
      run, rows: shape.events, copySeconds: round(copySeconds), copyRowsPerSecond: round(copyRate, 0), restoreSeconds: round(restoreSeconds), restoreRowsPerSecond: round(restoreRate, 0),
      ratioToCopy: round(restoreRate / copyRate), identicalToSnapshot: identical, restoreCpuMs, copyPgCpuMs,
      phaseStartsSeconds: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, round(v)])),
    };
  } finally {
    await store.close();
    await rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
    await dropSlots(ctx.client, [slot]);
    await ctx.client.query(`DROP PUBLICATION IF EXISTS ${slot}`);
    await ctx.client.query(`DROP TABLE IF EXISTS ${prefix}_lines, ${prefix}_orders, ${prefix}_customers CASCADE`);
  }
}

/** The server's process id (its data directory's postmaster.pid), or null when it cannot be read. */
async function postmasterPid(client) {
  try {
    const { rows } = await client.query('SHOW data_directory');
    return readPostmasterPid(rows[0].data_directory);
  } catch {
    return null;
  }
}

function cpuMsSince(before, after) {
  return before === null || after === null ? null : Math.round((after - before) * 1000);
}

async function snapshot(client, tables) {
  const out = {};
  for (const table of tables) out[table] = (await client.query(`SELECT md5(string_agg(row_to_json(t)::text, ',' ORDER BY id)) AS sum, count(*)::int AS n FROM ${table} t`)).rows[0];
  return out;
}

function round(value, digits = 2) {
  return value === null || value === undefined ? null : Number(value.toFixed(digits));
}
