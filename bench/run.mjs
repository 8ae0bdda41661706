// walaudit throughput bench: end-to-end events/s of the standalone pipeline (`walaudit start`, a
// child process) against the ceiling of Postgres' own decoding (pg_recvlogical), on a throwaway
// Postgres this script starts and stops. Progress on stderr; one JSON document on stdout.
//
//   npm run bench                        (builds first)
//   node --expose-gc bench/run.mjs       (uses the existing dist)
//
// Environment: BENCH_RUNS (3), BENCH_DELETE_ROWS (1000000), BENCH_TX_COUNT (200000), BENCH_RESTORE_BATCH_ROWS (5000),
// BENCH_CASES (delete,tx,alerts; also cascade, restore, queries, console: see bench/queries-case.mjs and bench/console-case.mjs), BENCH_ALERTS (200: bulk DELETEs in the alerts case),
// BENCH_CASCADE_ROWS (1000000), BENCH_RESTORE_ROWS (100000), BENCH_TIMEOUT_S (300: longest wait for walaudit per measurement),
// BENCH_BUDGET_S (840: no new run starts past it), BENCH_PG_DURABLE (1; 0 = fsync off),
// BENCH_CPU_PROF (a directory: run walaudit with --cpu-prof there and summarise the profiles),
// BENCH_NODE_FLAGS (extra node flags for walaudit), BENCH_WALAUDIT_ENV (WALAUDIT_X=V pairs for walaudit), BENCH_CLI_MAIN (another build's dist/main.js).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { cpus, loadavg, totalmem, availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseConfig } from '@walaudit/core';
import { connectClient, startLocalPostgres } from '@walaudit/pg';
import { installExitHandlers, interruptedBy, onCleanup, runCleanups } from './cleanup.mjs';
import { pgRecvlogicalPath, runCeiling } from './ceiling.mjs';
import { distBuiltAt, gitInfo } from './code-version.mjs';
import { summarizeProfileFile } from './cpuprofile-top.mjs';
import { round, summarize } from './stats.mjs';
import { CLI_MAIN, runWalaudit } from './walaudit-run.mjs';
import { measureAlertLatency } from './alert-latency.mjs';
import { measureCascade, measureRestore } from './cascade-cases.mjs';
import { measureQueries } from './queries-case.mjs';
import { measureConsole } from './console-case.mjs';
import { createSlots, dropSlots, prepareDeleteTable, prepareTxTable, runDelete, runTx, DELETE_TABLE, TX_TABLE } from './workloads.mjs';

const envInt = (name, fallback) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${raw}`);
  return value;
};

const CONFIG = {
  runs: envInt('BENCH_RUNS', 3),
  deleteRows: envInt('BENCH_DELETE_ROWS', 1_000_000),
  txCount: envInt('BENCH_TX_COUNT', 200_000),
  alerts: envInt('BENCH_ALERTS', 200),
  cases: (process.env.BENCH_CASES || 'delete,tx,alerts').split(',').map((s) => s.trim()).filter(Boolean),
  walauditTimeoutSeconds: envInt('BENCH_TIMEOUT_S', 300),
  budgetSeconds: envInt('BENCH_BUDGET_S', 840),
  pgDurable: process.env.BENCH_PG_DURABLE !== '0',
  cpuProfDir: process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : null,
  slot: 'walaudit_bench',
  publication: 'walaudit_bench',
  ceilingSlot: 'bench_ceiling',
  statusPollMs: 50,
};
const TARGETS = { walauditEventsPerSecondDelete: 50_000, ratio: 0.3, peakRssMB: 400 };

/** What has been measured so far, so that a failure still reports it. */
const partial = { machine: null, code: null, cases: {}, notes: [] };

const log = (line) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const benchStart = performance.now();
const elapsedSeconds = () => (performance.now() - benchStart) / 1000;

function machineInfo(pgVersion) {
  let recvlogical = null;
  try {
    recvlogical = execFileSync(pgRecvlogicalPath(), ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // reported as null
  }
  return {
    nproc: typeof availableParallelism === 'function' ? availableParallelism() : cpus().length,
    cpuModel: cpus()[0]?.model ?? null,
    memoryGB: round(totalmem() / 1024 ** 3, 1),
    platform: `${process.platform} ${process.arch}`,
    node: process.version,
    postgres: pgVersion,
    pgRecvlogical: recvlogical,
    loadAverageAtStart: loadavg().map((l) => round(l, 2)),
  };
}

/** The same measurement pair on a prepared slot: the ceiling first, then walaudit. */
async function measurePair(ctx, { events, endLsn, label }) {
  log(`${label}: ceiling (pg_recvlogical to ${endLsn})`);
  const ceiling = await runCeiling({ url: ctx.url, slot: CONFIG.ceilingSlot, publication: CONFIG.publication, endpos: endLsn, timeoutMs: CONFIG.walauditTimeoutSeconds * 1000 });
  ctx.ceilingArgs = ceiling.args;
  const ceilingEps = events / ceiling.seconds;
  // Sanity check, outside the timing: pg_recvlogical stopped at or past the last commit, so the
  // slot has nothing left to send.
  const left = await ctx.client.query(
    `SELECT count(*)::int AS n FROM pg_logical_slot_peek_binary_changes($1, NULL, NULL, 'proto_version', '1', 'publication_names', $2)`,
    [CONFIG.ceilingSlot, CONFIG.publication]);
  const ceilingLeftMessages = left.rows[0].n;
  log(`${label}: ceiling ${ceiling.seconds.toFixed(2)} s = ${Math.round(ceilingEps)} events/s (messages left in the slot: ${ceilingLeftMessages})`);
  await dropSlots(ctx.client, [CONFIG.ceilingSlot]);
  global.gc?.();

  log(`${label}: walaudit start (target ${events} entries)`);
  const walaudit = await runWalaudit({
    url: ctx.url, slot: CONFIG.slot, publication: CONFIG.publication, target: events,
    timeoutMs: CONFIG.walauditTimeoutSeconds * 1000, cpuProfDir: CONFIG.cpuProfDir, log,
  });
  log(`${label}: walaudit ${walaudit.completed ? '' : 'INCOMPLETE '}${walaudit.seconds?.toFixed(2)} s = ${Math.round(walaudit.eventsPerSecond ?? 0)} events/s, ${walaudit.cpuMsPer1kEvents?.toFixed(0)} ms CPU per 1k events, peak RSS ${walaudit.peakRssMB?.toFixed(0)} MB`);
  await dropSlots(ctx.client, [CONFIG.slot]);
  return {
    ceiling: { seconds: round(ceiling.seconds), eventsPerSecond: round(ceilingEps, 0), messagesLeftInSlot: ceilingLeftMessages },
    walaudit: {
      completed: walaudit.completed,
      seconds: round(walaudit.seconds),
      eventsPerSecond: round(walaudit.eventsPerSecond, 0),
      startupSeconds: round(walaudit.startupSeconds),
      runningObservedLateBySeconds: round(walaudit.runningObservedLateBySeconds),
      firstEventSeconds: round(walaudit.firstEventSeconds),
      firstStoredSeconds: round(walaudit.firstStoredSeconds),
      decodedSeconds: round(walaudit.decodedSeconds),
      cpuMsPer1kEvents: round(walaudit.cpuMsPer1kEvents, 1),
      peakRssMB: round(walaudit.peakRssMB, 1),
      maxRssSampleMB: round(walaudit.maxRssSampleMB, 1),
      rssAtRunningMB: round(walaudit.rssAtRunningMB, 1),
      rssAtRunningSplitMB: roundAll(walaudit.rssAtRunningSplitMB),
      maxRssSampleSplitMB: roundAll(walaudit.maxRssSampleSplitMB),
      maxHeapSampleMB: roundAll(walaudit.maxHeapSampleMB),
      finalStatus: walaudit.finalStatus,
      polls: walaudit.polls,
      slowestPollMs: round(walaudit.slowestPollMs, 0),
      stoppedGracefully: walaudit.stoppedGracefully,
    },
    ratio: walaudit.eventsPerSecond ? round(walaudit.eventsPerSecond / ceilingEps) : null,
  };
}

/** Each member of a { name: MB } object rounded to 0.1 (null stays null). */
function roundAll(split) {
  return split ? Object.fromEntries(Object.entries(split).map(([k, v]) => [k, round(v, 1)])) : null;
}

async function walBytes(client, fromLsn, toLsn) {
  const { rows } = await client.query('SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::bigint AS bytes', [toLsn, fromLsn]);
  return Number(rows[0].bytes);
}

async function currentLsn(client) {
  return (await client.query('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0].lsn;
}

async function measureDelete(ctx, run) {
  const label = `delete run ${run}`;
  const rows = CONFIG.deleteRows;
  await dropSlots(ctx.client, [CONFIG.slot, CONFIG.ceilingSlot]);
  let t = performance.now();
  await prepareDeleteTable(ctx.client, rows);
  const insertSeconds = (performance.now() - t) / 1000;
  log(`${label}: inserted ${rows} rows in ${insertSeconds.toFixed(1)} s`);
  await createSlots(ctx.url, ctx.client, { slot: CONFIG.slot, publication: CONFIG.publication, ceilingSlot: CONFIG.ceilingSlot, log: () => undefined });
  const before = await currentLsn(ctx.client);
  const del = await runDelete(ctx.client);
  if (del.rows !== rows) throw new Error(`DELETE removed ${del.rows} rows, expected ${rows}`);
  const wal = await walBytes(ctx.client, before, del.endLsn);
  log(`${label}: DELETE of ${rows} rows committed in ${del.seconds.toFixed(1)} s, ${(wal / 1024 ** 2).toFixed(0)} MB of WAL, end ${del.endLsn}`);
  const pair = await measurePair(ctx, { events: rows, endLsn: del.endLsn, label });
  return { run, events: rows, insertSeconds: round(insertSeconds), deleteSeconds: round(del.seconds), walMB: round(wal / 1024 ** 2, 1), ...pair };
}

async function measureTx(ctx, run) {
  const label = `tx run ${run}`;
  const count = CONFIG.txCount;
  await dropSlots(ctx.client, [CONFIG.slot, CONFIG.ceilingSlot]);
  await prepareTxTable(ctx.client);
  await createSlots(ctx.url, ctx.client, { slot: CONFIG.slot, publication: CONFIG.publication, ceilingSlot: CONFIG.ceilingSlot, log: () => undefined });
  const before = await currentLsn(ctx.client);
  const tx = await runTx(ctx.client, count);
  const wal = await walBytes(ctx.client, before, tx.endLsn);
  log(`${label}: ${count} single-row transactions in ${tx.seconds.toFixed(1)} s (${Math.round(count / tx.seconds)} tx/s), ${(wal / 1024 ** 2).toFixed(0)} MB of WAL, end ${tx.endLsn}`);
  const pair = await measurePair(ctx, { events: count, endLsn: tx.endLsn, label });
  return { run, events: count, workloadSeconds: round(tx.seconds), walMB: round(wal / 1024 ** 2, 1), ...pair };
}

function summarizeCase(runs, { eventsTarget }) {
  const pick = (fn) => summarize(runs.map(fn));
  const result = {
    runsCompleted: runs.length,
    walauditEventsPerSecond: pick((r) => r.walaudit.eventsPerSecond),
    ceilingEventsPerSecond: pick((r) => r.ceiling.eventsPerSecond),
    ratio: pick((r) => r.ratio),
    cpuMsPer1kEvents: pick((r) => r.walaudit.cpuMsPer1kEvents),
    peakRssMB: pick((r) => r.walaudit.peakRssMB),
    maxRssSampleMB: pick((r) => r.walaudit.maxRssSampleMB),
    rssAtRunningMB: pick((r) => r.walaudit.rssAtRunningMB),
    walauditSeconds: pick((r) => r.walaudit.seconds),
    ceilingSeconds: pick((r) => r.ceiling.seconds),
    walauditStartupSeconds: pick((r) => r.walaudit.startupSeconds),
    allCompleted: runs.every((r) => r.walaudit.completed),
  };
  const median = (s) => s.median;
  result.targets = {
    ...(eventsTarget ? { eventsPerSecond: { target: `>= ${eventsTarget}`, met: median(result.walauditEventsPerSecond) >= eventsTarget } } : {}),
    ratio: { target: `>= ${TARGETS.ratio}`, met: median(result.ratio) >= TARGETS.ratio },
    peakRssMB: { target: `< ${TARGETS.peakRssMB}`, met: median(result.peakRssMB) !== null && result.peakRssMB.max < TARGETS.peakRssMB },
  };
  result.runs = runs;
  return result;
}

function profileSummaries() {
  if (!CONFIG.cpuProfDir) return undefined;
  const files = readdirSync(CONFIG.cpuProfDir).filter((f) => f.endsWith('.cpuprofile')).sort();
  return files.map((file) => {
    try {
      return { file: join(CONFIG.cpuProfDir, file), ...summarizeProfileFile(join(CONFIG.cpuProfDir, file), 15) };
    } catch (error) {
      return { file, error: error.message };
    }
  });
}

async function main() {
  installExitHandlers();
  if (CONFIG.cpuProfDir) mkdirSync(CONFIG.cpuProfDir, { recursive: true });
  const startedAt = new Date().toISOString();
  const code = { ...gitInfo(), distBuiltAtStart: distBuiltAt() };
  partial.code = code;
  // The queries case needs no Postgres: it loads its entries straight into a store.
  const needsPostgres = CONFIG.cases.some((name) => name !== 'queries');
  let ctx = { url: null, client: null, ceilingArgs: null };
  let settings = {};
  if (needsPostgres) {
    log(`starting a throwaway Postgres (durable=${CONFIG.pgDurable})`);
    const server = await startLocalPostgres({ durable: CONFIG.pgDurable });
    onCleanup(async () => {
      log('stopping Postgres');
      await server.stop();
      log('Postgres stopped');
    });
    const client = await connectClient(server.url, 'walaudit-bench');
    onCleanup(() => client.end().catch(() => undefined));
    ctx = { url: server.url, client, ceilingArgs: null };

    settings = Object.fromEntries(
      (await client.query(`SELECT name, setting || COALESCE(unit, '') AS value FROM pg_settings
        WHERE name IN ('server_version', 'logical_decoding_work_mem', 'shared_buffers', 'max_wal_size', 'wal_level', 'fsync', 'full_page_writes', 'synchronous_commit', 'wal_compression')`)).rows.map((r) => [r.name, r.value]),
    );
  }
  const machine = machineInfo(settings.server_version ?? null);
  log(`machine: ${JSON.stringify(machine)}`);

  const { cases, notes } = partial;
  partial.machine = machine;
  const budgetLeft = () => CONFIG.budgetSeconds - elapsedSeconds();
  const runCase = async (name, measure, summaryOptions) => {
    const runs = [];
    cases[name] = { runsSoFar: runs };
    for (let run = 1; run <= CONFIG.runs; run++) {
      if (budgetLeft() <= 0) {
        notes.push(`${name}: stopped after ${runs.length} of ${CONFIG.runs} runs: the time budget of ${CONFIG.budgetSeconds} s (BENCH_BUDGET_S) was used up`);
        log(notes.at(-1));
        break;
      }
      runs.push(await measure(ctx, run));
      global.gc?.();
    }
    cases[name] = summarizeCase(runs, summaryOptions);
  };

  if (CONFIG.cases.includes('delete')) {
    await runCase('delete1M', measureDelete, { eventsTarget: TARGETS.walauditEventsPerSecondDelete });
    cases.delete1M = { rows: CONFIG.deleteRows, ...cases.delete1M };
    await ctx.client.query(`DROP TABLE IF EXISTS ${DELETE_TABLE}`);
  }
  if (CONFIG.cases.includes('tx')) {
    await runCase('tx200k', measureTx, {});
    cases.tx200k = { transactions: CONFIG.txCount, ...cases.tx200k };
    await ctx.client.query(`DROP TABLE IF EXISTS ${TX_TABLE}`);
  }
  if (CONFIG.cases.includes('alerts')) {
    // Alert latency: commit of a bulk DELETE -> webhook, under a 10k row changes/s load.
    cases.alertLatency = await measureAlertLatency(ctx, { alerts: CONFIG.alerts, rowsPerDelete: 100, loadRowsPerSecond: 10_000, intervalMs: 150, timeoutMs: 30_000, log });
  }
  // Cascade links and restores: their own summaries, see bench/cascade-cases.mjs.
  for (const [name, enabled, measure, options] of [
    ['cascade1M', CONFIG.cases.includes('cascade'), measureCascade, { rows: envInt('BENCH_CASCADE_ROWS', 1_000_000), timeoutMs: CONFIG.walauditTimeoutSeconds * 1000, log }],
    ['restore100k', CONFIG.cases.includes('restore'), measureRestore, { rows: envInt('BENCH_RESTORE_ROWS', 100_000), log }],
  ]) {
    if (!enabled) continue;
    const runs = [];
    for (let run = 1; run <= CONFIG.runs && budgetLeft() > 0; run++) {
      runs.push(await measure(ctx, run, options));
      cases[name] = { runsSoFar: runs };
      global.gc?.();
    }
    const pick = (fn) => summarize(runs.map(fn));
    cases[name] = name === 'cascade1M'
      ? { rows: options.rows, runsCompleted: runs.length, withLinksEventsPerSecond: pick((r) => r.withLinks.eventsPerSecond), withoutLinksEventsPerSecond: pick((r) => r.withoutLinks.eventsPerSecond),
          rateWithOverWithout: pick((r) => r.rateWithOverWithout), withLinksPeakRssMB: pick((r) => r.withLinks.peakRssMB), withoutLinksPeakRssMB: pick((r) => r.withoutLinks.peakRssMB), runs }
      : { rows: options.rows, runsCompleted: runs.length, restoreRowsPerSecond: pick((r) => r.restoreRowsPerSecond), copyRowsPerSecond: pick((r) => r.copyRowsPerSecond),
          ratioToCopy: pick((r) => r.ratioToCopy), target: { ratioToCopy: '>= 0.3', met: runs.length > 0 && summarize(runs.map((r) => r.ratioToCopy)).median >= 0.3 },
          restoreNodeCpuMs: pick((r) => r.restoreCpuMs.node), restorePgCpuMs: pick((r) => r.restoreCpuMs.postgres), copyPgCpuMs: pick((r) => r.copyPgCpuMs), runs };
  }
  if (CONFIG.cases.includes('queries') && budgetLeft() > 0) {
    cases.queries = await measureQueries({ entries: envInt('BENCH_QUERY_ENTRIES', 1_000_000), samples: envInt('BENCH_QUERY_SAMPLES', 40), log });
  }
  if (CONFIG.cases.includes('console') && budgetLeft() > 0) {
    cases.console = await measureConsole({ entries: envInt('BENCH_CONSOLE_ENTRIES', 1_000_000), samples: envInt('BENCH_CONSOLE_SAMPLES', 10), log });
  }
  if (CONFIG.deleteRows !== 1_000_000 || CONFIG.txCount !== 200_000) {
    notes.push(`sizes overridden: BENCH_DELETE_ROWS=${CONFIG.deleteRows}, BENCH_TX_COUNT=${CONFIG.txCount} (the case names keep their nominal sizes)`);
  }
  code.distBuiltAtEnd = distBuiltAt();
  if (code.distBuiltAtEnd !== code.distBuiltAtStart) {
    notes.push(`the built packages changed while the bench ran (dist ${code.distBuiltAtStart} -> ${code.distBuiltAtEnd}): later runs measured newer code`);
  }
  machine.loadAverageAtEnd = loadavg().map((l) => round(l, 2));
  if (CONFIG.cpuProfDir) notes.push('walaudit ran with --cpu-prof: its rates include the profiler overhead');

  const report = {
    benchmark: 'walaudit end-to-end throughput vs pg_recvlogical ceiling',
    startedAt,
    durationSeconds: round(elapsedSeconds(), 1),
    machine,
    code,
    config: {
      runs: CONFIG.runs,
      deleteRows: CONFIG.deleteRows,
      txCount: CONFIG.txCount,
      cases: CONFIG.cases,
      walauditTimeoutSeconds: CONFIG.walauditTimeoutSeconds,
      budgetSeconds: CONFIG.budgetSeconds,
      statusPollMs: CONFIG.statusPollMs,
      cpuProfile: CONFIG.cpuProfDir,
      postgres: { durable: CONFIG.pgDurable, settings },
      slots: { walaudit: CONFIG.slot, ceiling: CONFIG.ceilingSlot, publication: CONFIG.publication, publicationScope: 'FOR ALL TABLES (walaudit setup)' },
      ceilingCommand: ctx.ceilingArgs ? `pg_recvlogical ${ctx.ceilingArgs.join(' ')}` : null,
      walauditCommand: `node ${CLI_MAIN} start --source <url> --data-dir <fresh tmp> --http-port <free> --slot ${CONFIG.slot} --publication ${CONFIG.publication}`,
      walauditPipeline: parseConfig({}).pipeline,
      method: [
        'Each run: fresh slots (dropped and recreated), a fresh table, a fresh walaudit data dir.',
        'delete1M: rows inserted, CHECKPOINT, then walaudit setup (publication, REPLICA IDENTITY FULL, context trigger, slot) and a second pgoutput slot, then one DELETE of all rows (one transaction).',
        'tx200k: empty table, setup and slots, then one CALL of a procedure that inserts one row and COMMITs per iteration (synchronous_commit=off in that session, on for the last transaction so that its commit flushes all the WAL before it).',
        'Both consumers start after the workload has committed (catch-up): ceiling = wall time of pg_recvlogical from spawn to exit at --endpos (the LSN after the last commit), then walaudit = wall time from the moment the state is "running" until entriesStored >= events (/status polled every 50 ms). The start is the earlier of the first /status showing "running" and the moment the walaudit slot turns active in pg_replication_slots (polled every 20 ms; the replication connection opens right after "running"), because a busy walaudit event loop can answer /status hundreds of ms late. They run one after the other, never concurrently.',
        'Peak RSS = VmHWM of the walaudit process at the end of the run; maxRssSampleMB = max VmRSS over the polls; rssAtRunningMB = VmRSS when it reached state running (the idle baseline, chDB loaded); *SplitMB = the same samples as anonymous memory (heaps: V8, the allocator chDB uses) and file-backed pages (mapped code, libchdb.so above all); maxHeapSampleMB = the largest V8 heap used/total and external memory seen in its /metrics, sampled once a second (RSS minus heap is native memory: chDB, buffers).',
      ],
    },
    ...cases,
    targets: TARGETS,
    notes,
  };
  const profiles = profileSummaries();
  if (profiles) report.cpuProfiles = profiles;
  return report;
}

let exitCode = 0;
let report = null;
try {
  report = await main();
} catch (error) {
  exitCode = 1;
  log(`failed: ${error?.stack ?? error}`);
  // Whatever was measured before the failure, with the error: never silently nothing.
  const message = String(error?.message ?? error);
  report = { benchmark: 'walaudit end-to-end throughput vs pg_recvlogical ceiling', error: interruptedBy() ? `interrupted by ${interruptedBy()}: ${message}` : message, durationSeconds: round(elapsedSeconds(), 1), config: CONFIG, ...partial };
} finally {
  await runCleanups();
}
if (report) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
process.exitCode = exitCode;
log(`done in ${elapsedSeconds().toFixed(1)} s`);
