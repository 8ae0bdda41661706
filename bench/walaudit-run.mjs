// One measured run of `walaudit start` as a child process: spawn it on a fresh data directory and a
// free HTTP port, poll GET /status every 50 ms, time from state 'running' until entriesStored
// reaches the target, sample its memory, and always stop it (SIGTERM, then SIGKILL).
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { connectClient, findFreePort } from '@walaudit/pg';
import { trackChild } from './cleanup.mjs';
import { readProcCpuSeconds, readProcMemory } from './proc-memory.mjs';
import { fetchWalauditStatus, presetLocalToken } from './walaudit-status.mjs';

/** Extra node flags for the measured child (BENCH_NODE_FLAGS, space-separated), to compare settings. */
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);

/** The walaudit build to measure; BENCH_CLI_MAIN points at another checkout's dist/main.js to compare builds. */
export const CLI_MAIN = process.env.BENCH_CLI_MAIN || fileURLToPath(new URL('../services/cli/dist/main.js', import.meta.url));
const POLL_MS = 50;
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/**
 * Settings for the measured child, to compare them (BENCH_WALAUDIT_ENV, space-separated NAME=VALUE
 * pairs, e.g. `WALAUDIT_PIPELINE_BATCH_SIZE=2000`): only these WALAUDIT_ variables reach it.
 */
const BENCH_WALAUDIT_ENV = Object.fromEntries(
  (process.env.BENCH_WALAUDIT_ENV ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq <= 0 || !pair.startsWith('WALAUDIT_')) throw new Error(`BENCH_WALAUDIT_ENV takes WALAUDIT_NAME=VALUE pairs, got ${pair}`);
      return [pair.slice(0, eq), pair.slice(eq + 1)];
    }),
);

/** The environment without anything that would reconfigure the child behind the flags' back. */
function childEnv() {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key === 'DATABASE_URL' || key.startsWith('WALAUDIT_')) delete env[key];
  return { ...env, ...BENCH_WALAUDIT_ENV };
}


/**
 * Polls pg_replication_slots every 20 ms until `slot` is active (walaudit's replication connection is
 * up, which it opens right after setting state 'running'); resolves with that moment, or null when
 * stopped first. Independent of walaudit's event loop, which can hold a /status answer back.
 */
function watchSlotActive(url, slot) {
  let stop = false;
  const done = (async () => {
    const client = await connectClient(url, 'walaudit-bench-watch');
    try {
      while (!stop) {
        const { rows } = await client.query('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]);
        if (rows[0]?.active) return performance.now();
        await sleep(20);
      }
      return null;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return { done, stop: () => (stop = true) };
}

/** V8 heap and external memory from the child's /metrics (prom-client default metrics), in MB. */
async function fetchHeap(port) {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) return null;
    const text = await response.text();
    const gauge = (name) => {
      const match = new RegExp(`^\\w*${name} (\\S+)$`, 'm').exec(text);
      return match ? Number(match[1]) / 1024 ** 2 : null;
    };
    return { heapUsedMB: gauge('nodejs_heap_size_used_bytes'), heapTotalMB: gauge('nodejs_heap_size_total_bytes'), externalMB: gauge('nodejs_external_memory_bytes') };
  } catch {
    return null;
  }
}

/** SIGTERM, wait up to graceMs for the exit, then SIGKILL. Resolves once the child is gone. */
async function stopChild(child, graceMs) {
  if (child.exitCode !== null || child.signalCode !== null) return { graceful: true };
  const exited = new Promise((done) => child.once('exit', () => done(true)));
  try {
    process.kill(child.pid, 'SIGTERM');
  } catch {
    return { graceful: true };
  }
  let timer;
  const graceful = await Promise.race([exited, new Promise((done) => (timer = setTimeout(() => done(false), graceMs)))]);
  clearTimeout(timer);
  if (!graceful) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
    await exited;
  }
  return { graceful };
}

/**
 * @param {object} o
 * @param {string} o.url  source Postgres
 * @param {string} o.slot
 * @param {string} o.publication
 * @param {number} o.target  entries to wait for
 * @param {number} o.timeoutMs  longest wait from 'running' for the target
 * @param {string} [o.cpuProfDir]  run the child with --cpu-prof into this directory
 * @param {(line: string) => void} o.log
 */
export async function runWalaudit({ url, slot, publication, target, timeoutMs, startTimeoutMs = 120_000, cpuProfDir, log, env = {} }) {
  const workDir = await mkdtemp(join(tmpdir(), 'walaudit-bench-'));
  const dataDir = join(workDir, 'data');
  const token = presetLocalToken(dataDir);
  const port = await findFreePort();
  const nodeArgs = [...NODE_FLAGS, ...(cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [])];
  const args = [...nodeArgs, CLI_MAIN, 'start', '--source', url, '--data-dir', dataDir, '--http-port', String(port), '--slot', slot, '--publication', publication];
  const logFile = createWriteStream(join(workDir, 'walaudit.log'));
  let outputTail = '';
  const slotWatch = watchSlotActive(url, slot);
  let slotActiveAt = null;
  slotWatch.done.then((t) => (slotActiveAt = t), () => undefined);
  const spawnedAt = performance.now();
  const child = trackChild(spawn(process.execPath, args, { cwd: workDir, env: { ...childEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk) => {
      logFile.write(chunk);
      outputTail = (outputTail + chunk).slice(-3000);
    });
  }
  let exit = null;
  child.once('exit', (code, signal) => {
    exit = { code, signal };
  });

  // tRunning: the first /status answer showing 'running'. tStart, computed at the end: the earlier of
  // that and the moment the slot turned active (which follows 'running' by one connection setup).
  let tRunning = null;
  let tFirstEvent = null;
  let tFirstStored = null;
  let tDecoded = null;
  let tStored = null;
  let last = null;
  let maxRssMB = 0;
  /** The split of the largest RSS sample: anonymous memory and mapped files. */
  let maxRssSplit = null;
  let rssAtRunningMB = null;
  let rssAtRunningSplit = null;
  let cpuAtRunning = null;
  let cpuAtStored = null;
  const heapMax = { heapUsedMB: 0, heapTotalMB: 0, externalMB: 0 };
  let slowestPollMs = 0;
  let polls = 0;
  let completed = false;
  let failure = null;
  let hwmMB = null;
  let stopped = { graceful: null };
  try {
    for (;;) {
      const pollStart = performance.now();
      if (exit) throw new Error(`walaudit exited early (${exit.code ?? exit.signal}):\n${outputTail}`);
      const memory = readProcMemory(child.pid);
      if (memory?.rssMB && memory.rssMB > maxRssMB) {
        maxRssMB = memory.rssMB;
        maxRssSplit = { anonMB: memory.anonMB, fileMB: memory.fileMB };
      }
      const status = await fetchWalauditStatus(port, token);
      const now = performance.now();
      polls++;
      slowestPollMs = Math.max(slowestPollMs, now - pollStart);
      if (status) {
        last = status;
        if (status.state === 'failed') throw new Error(`walaudit failed: ${JSON.stringify(status.lastError)}\n${outputTail}`);
        if (tRunning === null && status.state === 'running') {
          tRunning = now;
          rssAtRunningMB = memory?.rssMB ?? null;
          rssAtRunningSplit = memory ? { anonMB: memory.anonMB, fileMB: memory.fileMB } : null;
          cpuAtRunning = readProcCpuSeconds(child.pid);
          log(`walaudit running after ${((now - spawnedAt) / 1000).toFixed(2)} s (pid ${child.pid}, port ${port})`);
        }
        if (tRunning !== null) {
          if (tFirstEvent === null && status.eventsTotal > 0) tFirstEvent = now;
          if (tFirstStored === null && status.entriesStored > 0) tFirstStored = now;
          if (tDecoded === null && status.eventsTotal >= target) tDecoded = now;
          if (status.entriesStored >= target) {
            tStored = now;
            cpuAtStored = readProcCpuSeconds(child.pid);
            completed = true;
            break;
          }
        }
      }
      if (tRunning === null && now - spawnedAt > startTimeoutMs) throw new Error(`walaudit not running after ${startTimeoutMs} ms:\n${outputTail}`);
      if (tRunning !== null && now - tRunning > timeoutMs) {
        log(`walaudit: timeout after ${timeoutMs / 1000} s at ${last?.entriesStored ?? 0}/${target} entries`);
        break;
      }
      // Once a second: how much of the RSS is V8's heap (the rest is native: chDB, buffers).
      if (polls % 20 === 0 && tRunning !== null) {
        const heap = await fetchHeap(port);
        if (heap) {
          for (const key of Object.keys(heapMax)) if (heap[key] !== null) heapMax[key] = Math.max(heapMax[key], heap[key]);
        }
      }
      if (polls % 100 === 0 && tRunning !== null) log(`  walaudit: ${last?.eventsTotal ?? '?'} decoded, ${last?.entriesStored ?? '?'} stored, rss ${memory?.rssMB?.toFixed(0)} MB (anon ${memory?.anonMB?.toFixed(0)}, files ${memory?.fileMB?.toFixed(0)})`);
      await sleep(Math.max(0, POLL_MS - (performance.now() - pollStart)));
    }
  } catch (error) {
    failure = error;
  } finally {
    slotWatch.stop();
    hwmMB = readProcMemory(child.pid)?.hwmMB ?? null;
    stopped = await stopChild(child, cpuProfDir ? 120_000 : 15_000);
    await new Promise((done) => logFile.end(done));
    await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
  }
  if (failure) throw failure;
  const endedAt = tStored ?? performance.now();
  await slotWatch.done.catch(() => undefined);
  const tStart = tRunning === null ? null : Math.min(tRunning, slotActiveAt ?? Infinity);
  const since = (t) => (t === null || tStart === null ? null : (t - tStart) / 1000);
  const seconds = tStart !== null ? (endedAt - tStart) / 1000 : null;
  const stored = last?.entriesStored ?? 0;
  return {
    completed,
    seconds,
    // Over the full target when completed; otherwise what was stored within the timeout.
    eventsPerSecond: seconds ? (completed ? target : stored) / seconds : null,
    startupSeconds: tStart === null ? null : (tStart - spawnedAt) / 1000,
    // How much later /status showed 'running' than the slot turned active (event loop busy).
    runningObservedLateBySeconds: since(tRunning),
    slotActiveAfterSeconds: slotActiveAt === null ? null : since(slotActiveAt),
    firstEventSeconds: since(tFirstEvent),
    firstStoredSeconds: since(tFirstStored),
    decodedSeconds: since(tDecoded),
    // CPU of the walaudit process (every thread: JS and chDB) per 1,000 events stored.
    cpuMsPer1kEvents: completed && cpuAtRunning !== null && cpuAtStored !== null ? ((cpuAtStored - cpuAtRunning) * 1e6) / target : null,
    peakRssMB: hwmMB,
    maxRssSampleMB: maxRssMB,
    maxRssSampleSplitMB: maxRssSplit,
    rssAtRunningMB,
    rssAtRunningSplitMB: rssAtRunningSplit,
    maxHeapSampleMB: heapMax,
    finalStatus: last ? { state: last.state, eventsTotal: last.eventsTotal, entriesStored: last.entriesStored } : null,
    polls,
    slowestPollMs,
    stoppedGracefully: stopped.graceful,
  };
}
