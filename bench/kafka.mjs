// Distributed-mode throughput: reader (slot -> Kafka) events/s, then writers (Kafka -> ClickHouse,
// embedded chDB) events/s with one and with two writer processes, for a big DELETE and for many
// small transactions. Starts its own Postgres (startLocalPostgres) and Kafka broker
// (infra/kafka/kafka.sh); progress on stderr, one JSON document on stdout.
//
//   npm run build && node bench/kafka.mjs
//
// Environment: BENCH_RUNS (3), BENCH_DELETE_ROWS (1000000), BENCH_TX_COUNT (200000),
// BENCH_CASES (delete,tx), BENCH_WRITERS (1,2; empty: the reader only), BENCH_TIMEOUT_S (600),
// BENCH_NODE_FLAGS (extra node flags for every walaudit process, e.g. --cpu-prof --cpu-prof-dir=DIR),
// BENCH_FORMAT (json; avro: the Confluent wire format through a registry that
// infra/schema-registry/registry.sh starts).
// Each case runs BENCH_RUNS times (a fresh workload, slot and topic each run) and reports the
// median, min and max of each rate, and the CPU the processes used per 1000 events (user + system,
// from /proc, process start included): less sensitive than the rates to other work on the machine;
// and the peak RSS of the largest process; and `machine` (busy cores, the broker's and Postgres's
// CPU per 1000 events over the same interval as the rate), which tells whether a stage was bound
// by the machine's cores or by one of its own.
// Each writer process has its own chDB directory (chDB allows one process per directory), so with
// two writers each stores its partitions' share; the time runs until both together hold every
// event. In production both would write to one ClickHouse server.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { connectClient, findFreePort, runSetup, startLocalPostgres } from '@walaudit/pg';
import { dropSlots, prepareDeleteTable, prepareTxTable, runDelete, runTx } from './workloads.mjs';
import { readMachineCpuSeconds, readPostmasterPid, readProcCpuSeconds, readProcMemory, readServerCpuSeconds } from './proc-memory.mjs';
import { round, summarize } from './stats.mjs';
import { fetchWalauditStatus, presetLocalToken } from './walaudit-status.mjs';

const env = (name, fallback) => process.env[name] || fallback;
const CONFIG = {
  runs: Number(env('BENCH_RUNS', 3)),
  deleteRows: Number(env('BENCH_DELETE_ROWS', 1_000_000)),
  txCount: Number(env('BENCH_TX_COUNT', 200_000)),
  cases: env('BENCH_CASES', 'delete,tx').split(','),
  writers: (process.env.BENCH_WRITERS ?? '1,2').split(',').filter(Boolean).map(Number),
  nodeFlags: (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean),
  timeoutMs: Number(env('BENCH_TIMEOUT_S', 600)) * 1000,
  format: env('BENCH_FORMAT', 'json'),
};
const KAFKA_SH = fileURLToPath(new URL('../infra/kafka/kafka.sh', import.meta.url));
const REGISTRY_SH = fileURLToPath(new URL('../infra/schema-registry/registry.sh', import.meta.url));
const CLI = fileURLToPath(new URL('../services/cli/bin/walaudit.js', import.meta.url));
const log = (line) => process.stderr.write(`[bench kafka ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
const children = new Set();

function spawnWalaudit(args, extraEnv) {
  const childEnv = { ...process.env, ...extraEnv };
  delete childEnv.DATABASE_URL;
  const child = spawn(process.execPath, [...CONFIG.nodeFlags, CLI, ...args], { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  child.stderr.on('data', (chunk) => (tail = (tail + chunk).slice(-4000)));
  children.add(child);
  child.once('exit', () => children.delete(child));
  return { child, tail: () => tail };
}

/** The token the bench put in each walaudit's data directory, by HTTP port. */
const tokens = new Map();

function status(port) {
  return fetchWalauditStatus(port, tokens.get(port));
}

async function stop({ child }) {
  if (child.exitCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  // Not measured; a writer leaving a two-member group can take its rebalance time to stop.
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Polls the processes' /status until sum(pick) >= target. `eventsPerSecond` counts from the first
 * events seen (the stage's rate: those first events, a batch, and their time left out);
 * `startupSeconds` is the time from the spawn to that first event
 * (node start, connections, topic creation, the group join), which a long-running process pays once.
 * `machine`: over the same interval as the rate, how many cores the whole machine kept busy (and
 * lost to steal), and the CPU the broker and Postgres used per 1000 events: with every server on
 * one 2-core machine, busyCores near 2 means the stage is bound by the machine, not by its design.
 */
async function timeUntil(ports, pick, target, label, processes, servers) {
  const deadline = performance.now() + CONFIG.timeoutMs;
  let firstAt = null;
  let firstCount = 0;
  let firstUsage = null;
  const startAt = performance.now();
  for (;;) {
    const values = await Promise.all(ports.map(async (port) => pick((await status(port)) ?? {})));
    const total = values.reduce((sum, value) => sum + (value ?? 0), 0);
    if (total > 0 && firstAt === null) {
      firstAt = performance.now();
      firstCount = total;
      firstUsage = machineUsage(servers);
    }
    if (total >= target) {
      const seconds = (performance.now() - firstAt) / 1000;
      const machine = usageBetween(firstUsage, machineUsage(servers), seconds, target - firstCount);
      const startupSeconds = (firstAt - startAt) / 1000;
      const cpu = processes.map(({ child }) => readProcCpuSeconds(child.pid));
      const cpuMsPer1kEvents = cpu.every((c) => c !== null) ? round((cpu.reduce((sum, c) => sum + c, 0) * 1000) / (target / 1000), 1) : null;
      // Each process's own peak (VmHWM), the largest of them: a writer's fetches and chunks in flight.
      const peaks = processes.map(({ child }) => readProcMemory(child.pid)?.hwmMB ?? null);
      const peakRssMB = peaks.every((peak) => peak !== null) ? Math.round(Math.max(...peaks)) : null;
      return { seconds: round(seconds, 2), startupSeconds: round(startupSeconds, 2), eventsPerSecond: seconds > 0 ? Math.round((target - firstCount) / seconds) : null, cpuMsPer1kEvents, peakRssMB, machine };
    }
    if (processes.some(({ child }) => child.exitCode !== null)) throw new Error(`${label}: walaudit exited at ${total} of ${target}`);
    if (performance.now() > deadline) throw new Error(`${label}: ${total} of ${target} after ${CONFIG.timeoutMs / 1000} s`);
    await sleep(50);
  }
}

/** CPU seconds so far: the machine's (readMachineCpuSeconds) and each server's. */
function machineUsage(servers) {
  return { machine: readMachineCpuSeconds(), broker: readProcCpuSeconds(servers.brokerPid), postgres: servers.postmasterPid === null ? null : readServerCpuSeconds(servers.postmasterPid) };
}

function usageBetween(before, after, seconds, events) {
  if (!before?.machine || !after?.machine || seconds <= 0 || events <= 0) return null;
  const perKiloEvent = (a, b) => (a === null || b === null ? null : round(((b - a) * 1000) / (events / 1000), 1));
  return {
    busyCores: round((after.machine.busy - before.machine.busy) / seconds, 2),
    stealCores: round((after.machine.steal - before.machine.steal) / seconds, 2),
    brokerCpuMsPer1kEvents: perKiloEvent(before.broker, after.broker),
    postgresCpuMsPer1kEvents: perKiloEvent(before.postgres, after.postgres),
  };
}

async function main() {
  const startedAt = Date.now();
  log('starting Postgres and Kafka');
  const pg = await startLocalPostgres({ durable: false });
  const kafkaDir = mkdtempSync(join(tmpdir(), 'walaudit-bench-kafka-'));
  const brokers = execFileSync('bash', [KAFKA_SH, 'start', kafkaDir], { encoding: 'utf8' }).trim();
  const servers = { brokerPid: Number(readFileSync(join(kafkaDir, 'broker.pid'), 'utf8')), postmasterPid: readPostmasterPid(pg.dataDir) };
  const registryDir = mkdtempSync(join(tmpdir(), 'walaudit-bench-registry-'));
  const formatEnv = { WALAUDIT_KAFKA_FORMAT: CONFIG.format };
  if (CONFIG.format === 'avro') formatEnv.WALAUDIT_KAFKA_SCHEMA_REGISTRY_URL = execFileSync('bash', [REGISTRY_SH, 'start', registryDir], { encoding: 'utf8' }).trim();
  const results = { machine: { loadAverageAtStart: loadavg() }, format: CONFIG.format, cases: {} };
  try {
    const client = await connectClient(pg.url, 'walaudit-bench');
    for (const name of CONFIG.cases) {
      const runs = [];
      for (let run = 1; run <= CONFIG.runs; run++) {
        log(`${name}: run ${run} of ${CONFIG.runs}`);
        runs.push(await measureRun(client, pg, servers, { WALAUDIT_KAFKA_BROKERS: brokers, ...formatEnv }, name, run));
        results.cases[name] = { runsSoFar: runs };
      }
      results.cases[name] = summarizeCase(runs);
    }
    await client.end();
  } finally {
    for (const child of children) child.kill('SIGKILL');
    execFileSync('bash', [KAFKA_SH, 'stop', kafkaDir]);
    execFileSync('bash', [REGISTRY_SH, 'stop', registryDir]);
    rmSync(kafkaDir, { recursive: true, force: true });
    rmSync(registryDir, { recursive: true, force: true });
    await pg.stop();
  }
  results.machine.loadAverageAtEnd = loadavg();
  results.seconds = Math.round((Date.now() - startedAt) / 1000);
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}

/** Medians over the runs; a target is met when the median meets it. */
function summarizeCase(runs) {
  const rates = (pick) => ({
    eventsPerSecond: summarize(runs.map((r) => pick(r)?.eventsPerSecond)),
    startupSeconds: summarize(runs.map((r) => pick(r)?.startupSeconds)),
    cpuMsPer1kEvents: summarize(runs.map((r) => pick(r)?.cpuMsPer1kEvents)),
    peakRssMB: summarize(runs.map((r) => pick(r)?.peakRssMB)),
    machineBusyCores: summarize(runs.map((r) => pick(r)?.machine?.busyCores)),
    brokerCpuMsPer1kEvents: summarize(runs.map((r) => pick(r)?.machine?.brokerCpuMsPer1kEvents)),
    postgresCpuMsPer1kEvents: summarize(runs.map((r) => pick(r)?.machine?.postgresCpuMsPer1kEvents)),
  });
  const reader = rates((r) => r.reader);
  const writers = Object.fromEntries(CONFIG.writers.map((count) => [count, rates((r) => r.writers[count])]));
  const met = (summary, target) => summary.eventsPerSecond.median !== null && summary.eventsPerSecond.median >= target;
  return {
    events: runs[0]?.events,
    runsCompleted: runs.filter((r) => !r.reader.error && Object.values(r.writers).every((w) => !w.error)).length,
    reader,
    writers,
    targets: {
      readerEventsPerSecond: { target: '>= 50000', met: met(reader, 50_000) },
      // The writers are the slower stage: with both stages running at once, end to end is bounded by them.
      endToEndEventsPerSecond: { target: '>= 40000', metWith: Object.fromEntries(Object.entries(writers).map(([count, summary]) => [count, met(summary, 40_000)])) },
    },
    runs,
  };
}

async function measureRun(client, pg, servers, serviceEnv, name, run) {
  const slot = `bench_${name}_${run}`;
  const prefix = `bench-${name}-${Date.now()}`;
  const kafkaEnv = { ...serviceEnv, WALAUDIT_KAFKA_TOPIC_PREFIX: prefix, WALAUDIT_KAFKA_PARTITIONS: '4' };
  let events;
  if (name === 'delete') {
    log(`delete: ${CONFIG.deleteRows} rows`);
    await prepareDeleteTable(client, CONFIG.deleteRows);
    await runSetup(pg.url, { slot, publication: slot, tables: [], dryRun: false, log: () => {} });
    await runDelete(client);
    events = CONFIG.deleteRows;
  } else {
    log(`tx: ${CONFIG.txCount} transactions`);
    await prepareTxTable(client);
    await runSetup(pg.url, { slot, publication: slot, tables: [], dryRun: false, log: () => {} });
    await runTx(client, CONFIG.txCount);
    events = CONFIG.txCount;
  }
  // The workload is in the WAL before the reader starts: the reader's rate is its own.
  const readerPort = await findFreePort();
  const readerDir = mkdtempSync(join(tmpdir(), 'walaudit-bench-reader-'));
  tokens.set(readerPort, presetLocalToken(readerDir));
  const reader = spawnWalaudit(['start', '--mode', 'distributed', '--services', 'reader', '--source', pg.url, '--slot', slot, '--publication', slot, '--http-port', String(readerPort), '--data-dir', readerDir], kafkaEnv);
  const readerResult = await timeUntil([readerPort], (s) => s.kafka?.published, events, `${name} reader`, [reader], servers).catch((error) => ({ error: `${error.message}\n${reader.tail()}` }));
  await stop(reader);
  rmSync(readerDir, { recursive: true, force: true });
  log(`${name} reader: ${JSON.stringify(readerResult)}`);
  const caseResult = { events, loadAverage: loadavg().map((l) => round(l, 2)), reader: readerResult, writers: {} };
  for (const count of CONFIG.writers) {
    // A fresh group reads the topic from the start.
    const group = `${prefix}-w${count}`;
    const ports = [];
    const writers = [];
    const dirs = [];
    for (let i = 0; i < count; i++) {
      const port = await findFreePort();
      const dir = mkdtempSync(join(tmpdir(), 'walaudit-bench-store-'));
      ports.push(port);
      dirs.push(dir);
      tokens.set(port, presetLocalToken(dir));
      writers.push(spawnWalaudit(['start', '--mode', 'distributed', '--services', 'writer', '--data-dir', dir, '--http-port', String(port)], { ...kafkaEnv, WALAUDIT_KAFKA_GROUP_ID: group }));
    }
    const result = await timeUntil(ports, (s) => s.entriesStored, events, `${name} ${count} writer(s)`, writers, servers).catch((error) => ({ error: `${error.message}\n${writers.map((w) => w.tail()).join('\n')}` }));
    await Promise.all(writers.map(stop));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    log(`${name} ${count} writer(s): ${JSON.stringify(result)}`);
    caseResult.writers[count] = result;
  }
  // An inactive slot still holds its WAL: the next run's workload would add to it.
  await dropSlots(client, [slot]);
  return caseResult;
}

// Interrupted (Ctrl-C, or `timeout`'s SIGTERM): the children go, and main()'s finally stops the
// broker and Postgres on the way out instead of leaving them running.
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    for (const child of children) child.kill('SIGKILL');
  });
}
await main();
