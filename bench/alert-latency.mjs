// Alert latency: from the commit of a bulk DELETE to the webhook receiving its alert, in standalone
// mode (`walaudit start`, a child process), while a background load writes ~10k row changes per
// second into another table. Each DELETE is made by a new application user (withAuditContext), so
// each raises a new bulk-delete alert (one actor's further deletions would grow its open alert).
// Latency = the webhook's receive time minus the transaction's commit time as Postgres recorded
// it (alert.firstCommitTime): one clock, both on this machine.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connectClient, findFreePort, runSetup, withAuditContext } from '@walaudit/pg';
import { trackChild } from './cleanup.mjs';
import { round } from './stats.mjs';
import { CLI_MAIN } from './walaudit-run.mjs';
import { fetchWalauditStatus, presetLocalToken } from './walaudit-status.mjs';

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
const LOAD_TABLE = 'public.bench_alert_load';
const VICTIM_TABLE = 'public.bench_alert_victim';

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function startWebhook() {
  const received = new Map();
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const at = Date.now();
      try {
        const { event, alert } = JSON.parse(body);
        if (event === 'raised' && alert.kind === 'bulk-delete') received.set(alert.actor.appUser, { at, alert });
      } catch {
        // not ours
      }
      response.end('{}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, received, url: `http://127.0.0.1:${server.address().port}/hook` })));
}

/** ~rowsPerSecond inserts, in 10 statements a second, until stopped; returns the rate achieved. */
function backgroundLoad(url, rowsPerSecond) {
  let stop = false;
  const done = (async () => {
    const client = await connectClient(url, 'walaudit-bench-load');
    const perTick = Math.max(1, Math.round(rowsPerSecond / 10));
    const started = performance.now();
    let rows = 0;
    try {
      while (!stop) {
        const tickStart = performance.now();
        await client.query(`INSERT INTO ${LOAD_TABLE} (v) SELECT g FROM generate_series(1, $1) g`, [perTick]);
        rows += perTick;
        const wait = 100 - (performance.now() - tickStart);
        if (wait > 0) await sleep(wait);
      }
    } finally {
      await client.end().catch(() => undefined);
    }
    return rows / ((performance.now() - started) / 1000);
  })();
  return { done, stop: () => (stop = true) };
}

export async function measureAlertLatency(ctx, { alerts, rowsPerDelete, loadRowsPerSecond, intervalMs, timeoutMs, log }) {
  const { client, url } = ctx;
  const slot = 'walaudit_bench_alerts';
  await client.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, [slot]);
  await client.query(`DROP TABLE IF EXISTS ${LOAD_TABLE}, ${VICTIM_TABLE}`);
  await client.query(`CREATE TABLE ${LOAD_TABLE} (id bigserial PRIMARY KEY, v int)`);
  await client.query(`CREATE TABLE ${VICTIM_TABLE} (id int PRIMARY KEY, note text)`);
  await client.query(`INSERT INTO ${VICTIM_TABLE} SELECT g, 'row ' || g FROM generate_series(1, $1) g`, [alerts * rowsPerDelete]);
  await runSetup(url, { slot, publication: slot, tables: [], dryRun: false, log: () => undefined });

  const webhook = await startWebhook();
  const dataDir = await mkdtemp(join(tmpdir(), 'walaudit-bench-alerts-'));
  const port = await findFreePort();
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key === 'DATABASE_URL' || key.startsWith('WALAUDIT_')) delete env[key];
  Object.assign(env, { WALAUDIT_ALERTS_WEBHOOK_URL: webhook.url, WALAUDIT_ALERTS_THRESHOLD: String(rowsPerDelete - 1), WALAUDIT_LOG_LEVEL: 'warn' });
  const token = presetLocalToken(dataDir);
  const child = trackChild(spawn(process.execPath, [CLI_MAIN, 'start', '--source', url, '--data-dir', dataDir, '--http-port', String(port), '--slot', slot, '--publication', slot], { env, stdio: ['ignore', 'ignore', 'pipe'] }));
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const load = { stop: () => undefined, done: Promise.resolve(null) };
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const status = await fetchWalauditStatus(port, token);
      if (status?.state === 'running') break;
      if (child.exitCode !== null) throw new Error(`walaudit exited: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`walaudit did not start: ${stderr}`);
      await sleep(100);
    }
    Object.assign(load, backgroundLoad(url, loadRowsPerSecond));
    await sleep(2_000); // the load reaches its rate before the first DELETE
    log(`alerts: ${alerts} bulk DELETEs of ${rowsPerDelete} rows, one every ${intervalMs} ms, under ~${loadRowsPerSecond} row changes/s`);
    const deleter = await connectClient(url, 'walaudit-bench-deleter');
    try {
      for (let i = 0; i < alerts; i++) {
        const started = performance.now();
        await withAuditContext(deleter, { user: `bench-actor-${i}` }, (tx) => tx.query(`DELETE FROM ${VICTIM_TABLE} WHERE id > $1 AND id <= $2`, [i * rowsPerDelete, (i + 1) * rowsPerDelete]));
        const wait = intervalMs - (performance.now() - started);
        if (wait > 0) await sleep(wait);
      }
    } finally {
      await deleter.end().catch(() => undefined);
    }
    const waitUntil = Date.now() + timeoutMs;
    while (webhook.received.size < alerts && Date.now() < waitUntil) await sleep(50);
    load.stop();
    const loadRate = await load.done;
    const latencies = [...webhook.received.values()].map(({ at, alert }) => (at - Date.parse(alert.firstCommitTime)) / 1000).sort((a, b) => a - b);
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()).catch(() => '');
    const delivered = /walaudit_alert_deliveries_total\{channel="webhook",outcome="delivered"\} (\d+)/.exec(metrics)?.[1];
    return {
      alertsExpected: alerts,
      alertsReceived: webhook.received.size,
      rowsPerDelete,
      backgroundRowChangesPerSecond: round(loadRate, 0),
      latencySeconds: {
        p50: round(percentile(latencies, 50)),
        p90: round(percentile(latencies, 90)),
        p99: round(percentile(latencies, 99)),
        max: round(latencies.at(-1) ?? null),
        min: round(latencies[0] ?? null),
      },
      target: { p99Seconds: '< 1', met: latencies.length === alerts && percentile(latencies, 99) < 1 },
      webhookDeliveriesCounted: delivered === undefined ? null : Number(delivered),
    };
  } finally {
    load.stop();
    await load.done.catch(() => undefined);
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await Promise.race([new Promise((resolve) => child.once('exit', resolve)), sleep(10_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    webhook.server.close();
    await rm(dataDir, { recursive: true, force: true });
    await client.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [slot]).catch(() => undefined);
    await client.query(`DROP TABLE IF EXISTS ${LOAD_TABLE}, ${VICTIM_TABLE}`);
  }
}
