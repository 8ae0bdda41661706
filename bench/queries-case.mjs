// The `queries` case: what analysts wait for on a big audit log. Loads N entries straight into an
// embedded store (chDB; no Postgres, no pipeline: the entries are linked into their chains here),
// then times the queries of the API: the first page of a filtered list, the history of one row, a
// 30-day stats query, and a whole export (entries/s and RSS growth over it).
//
//   BENCH_CASES=queries npm run bench
//   BENCH_QUERY_ENTRIES (1000000), BENCH_QUERY_SAMPLES (40: timed runs per query)
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { eventId, formatLsn, linkEachIntoChains } from '@walaudit/core';
import { openClickHouseStores } from '@walaudit/clickhouse';
import { onCleanup } from './cleanup.mjs';
import { measureCsvExport, measurePdfReport, startBenchApi } from './exports-http.mjs';
import { readProcMemory } from './proc-memory.mjs';
import { round } from './stats.mjs';
import { seededRandom } from './seeded-random.mjs';

const TABLES = Array.from({ length: 20 }, (_, i) => `table_${String(i).padStart(2, '0')}`);
const ACTORS = Array.from({ length: 50 }, (_, i) => `user${i}@example.com`);
const DAYS = 90;
const KEYS_PER_TABLE = 100_000;
const INSERT_BATCH = 50_000;
const TARGETS = { firstPageP95Ms: 150, historyP95Ms: 200, stats30DaysMs: 500, exportEntriesPerSecond: 100_000, exportRssGrowthMB: 50, pdf1kEntriesMs: 5_000 };

const columns = [
  { name: 'id', type: 'bigint', typeOid: 20 },
  { name: 'status', type: 'text', typeOid: 25 },
  { name: 'amount', type: 'numeric(12,2)', typeOid: 1700 },
  { name: 'note', type: 'text', typeOid: 25 },
  { name: 'updated_at', type: 'timestamp with time zone', typeOid: 1184 },
];

/** Transactions of 1 to 20 row changes, commit times spread evenly over DAYS ending now. */
function* transactions(total, rand) {
  const end = Date.now();
  const start = end - DAYS * 86_400_000;
  let lsn = 0x1000000n;
  let xid = 1000;
  let made = 0;
  while (made < total) {
    const size = Math.min(total - made, 1 + Math.floor(rand() * 20));
    const commitTime = new Date(start + ((end - start) * made) / total).toISOString().replace('Z', '000Z');
    const actorName = ACTORS[Math.floor(rand() * ACTORS.length)];
    const actor = { app: { user: actorName, ip: '10.1.2.3' }, db: { user: 'app', ip: '10.9.8.7', applicationName: 'api', statement: 'UPDATE ...' } };
    const tx = { xid, lsn: formatLsn(lsn), commitTime };
    const events = [];
    for (let seq = 0; seq < size; seq++) {
      const table = TABLES[Math.floor(rand() * rand() * TABLES.length)];
      const id = String(Math.floor(rand() * KEYS_PER_TABLE));
      const roll = rand();
      const op = roll < 0.5 ? 'insert' : roll < 0.85 ? 'update' : 'delete';
      const row = { id, status: roll < 0.3 ? 'open' : 'closed', amount: (rand() * 1000).toFixed(2), note: `note ${Math.floor(rand() * 1e6)}`, updated_at: commitTime };
      const before = op === 'insert' ? null : { ...row, status: 'open' };
      const after = op === 'delete' ? null : row;
      events.push({
        event: {
          id: eventId(lsn, seq), op, schema: 'public', table, keyKind: 'primary-key', pk: { id }, columns, before, after,
          changed: op === 'update' ? ['status'] : [], tx: { ...tx, seq }, actor,
        },
        retentionDays: 0,
        critical: false,
      });
    }
    yield events;
    made += size;
    lsn += 0x1000n;
    xid++;
  }
}

/** For quick experiments on the queries of a loaded store. */
export const loadForExperiments = (stores, total) => load(stores, total, () => undefined);

async function load(stores, total, log) {
  const rand = seededRandom(42);
  let heads = new Map();
  let batch = { entries: [], bodies: [] };
  let stored = 0;
  const flush = async () => {
    await stores.audit.insertEntries(batch.entries, batch.bodies);
    stored += batch.entries.length;
    batch = { entries: [], bodies: [] };
  };
  const started = performance.now();
  for (const events of transactions(total, rand)) {
    heads = linkEachIntoChains(heads, events, (entry, body) => {
      batch.entries.push(entry);
      batch.bodies.push(body);
    });
    if (batch.entries.length >= INSERT_BATCH) {
      await flush();
      if (stored % 500_000 < INSERT_BATCH) log(`queries: ${stored} entries loaded`);
    }
  }
  if (batch.entries.length > 0) await flush();
  return (performance.now() - started) / 1000;
}

function percentiles(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  return { p50: round(at(50), 1), p95: round(at(95), 1), max: round(sorted.at(-1), 1), samples: sorted.length };
}

async function timeEach(samples, run) {
  await run(-1); // warm-up: the first read of each column's files is not what an analyst waits for twice
  const times = [];
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    await run(i);
    times.push(performance.now() - t);
  }
  return percentiles(times);
}

const rssMB = () => readProcMemory(process.pid)?.rssMB ?? process.memoryUsage().rss / 1024 ** 2;

export async function measureQueries({ entries, samples, log }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'walaudit-bench-queries-'));
  onCleanup(() => rmSync(dataDir, { recursive: true, force: true }));
  const stores = await openClickHouseStores({ dataDir, database: 'walaudit' });
  onCleanup(() => stores.close().catch(() => undefined));
  const { queries } = stores;
  log(`queries: loading ${entries} entries into chDB in ${dataDir}`);
  const loadSeconds = await load(stores, entries, log);
  log(`queries: loaded in ${loadSeconds.toFixed(1)} s; merging parts (OPTIMIZE FINAL, as a log some hours old is)`);
  let t = performance.now();
  await stores.audit.command(`OPTIMIZE TABLE ${stores.audit.table('audit_log')} FINAL`);
  const optimizeSeconds = (performance.now() - t) / 1000;

  const rand = seededRandom(7);
  const day = 86_400_000;
  const now = Date.now();
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const weekRange = () => {
    const end = now - Math.floor(rand() * (DAYS - 7)) * day;
    return { from: new Date(end - 7 * day).toISOString(), to: new Date(end).toISOString() };
  };

  log('queries: first page of table + op + 7-day range');
  const firstPage = await timeEach(samples, () => queries.searchEntries({ filter: { tables: [pick(TABLES)], ops: [pick(['insert', 'update', 'delete'])], ...weekRange() }, limit: 100 }));
  log(`queries: first page ${JSON.stringify(firstPage)}`);
  const firstPageWithCount = await timeEach(Math.min(samples, 10), () => queries.searchEntries({ filter: { tables: [pick(TABLES)], ops: ['delete'], ...weekRange() }, limit: 100, count: true }));
  log(`queries: first page with count ${JSON.stringify(firstPageWithCount)}`);
  const history = await timeEach(samples, () => queries.recordHistory(`public.${pick(TABLES.slice(0, 5))}`, { id: String(Math.floor(rand() * KEYS_PER_TABLE)) }));
  log(`queries: record history ${JSON.stringify(history)}`);
  const thirtyDays = { from: new Date(now - 30 * day).toISOString(), to: new Date(now).toISOString() };
  const stats = await timeEach(Math.min(samples, 10), (i) => queries.stats({ bucket: 'day', groupBy: pick(['table', 'actor', 'op']), ...thirtyDays }));
  log(`queries: 30-day stats ${JSON.stringify(stats)}`);
  const deleters = await timeEach(Math.min(samples, 10), () => queries.topDeleters(thirtyDays, 10));

  log('queries: export of every entry');
  global.gc?.();
  const rssBefore = rssMB();
  let rssMax = rssBefore;
  let exported = 0;
  // CPU time of the whole process (chDB's threads too): less sensitive than wall time to other
  // work on a shared machine.
  const cpuBefore = process.cpuUsage();
  t = performance.now();
  for await (const page of queries.exportEntries({})) {
    exported += page.length;
    // The work of a writer, cheaply: every entry touched.
    for (const entry of page) if (entry.id.length === 0) throw new Error('entry without id');
    rssMax = Math.max(rssMax, rssMB());
  }
  const exportSeconds = (performance.now() - t) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const exportCpuSeconds = (cpu.user + cpu.system) / 1e6;
  const exportRate = exported / exportSeconds;
  const rssGrowthMB = rssMax - rssBefore;
  log(`queries: exported ${exported} in ${exportSeconds.toFixed(1)} s = ${Math.round(exportRate)} entries/s (${exportCpuSeconds.toFixed(1)} CPU s), RSS ${rssBefore.toFixed(0)} -> max ${rssMax.toFixed(0)} MB`);
  if (exported !== entries) throw new Error(`the export gave ${exported} entries, ${entries} were loaded`);

  const { api, get } = await startBenchApi(stores);
  onCleanup(() => api.close().catch(() => undefined));
  log('queries: CSV export of every entry over HTTP');
  const csvExport = await measureCsvExport(get, entries);
  log(`queries: CSV over HTTP ${JSON.stringify(csvExport)}`);
  // Commit times are spread evenly over DAYS: a window of DAYS/entries*1000 days holds about 1,000.
  const windowStart = now - (DAYS / 2) * day;
  const pdfWindow = { from: new Date(windowStart).toISOString(), to: new Date(windowStart + (DAYS * day * 1000) / entries).toISOString() };
  const pdfReport = await measurePdfReport(get, queries, pdfWindow);
  log(`queries: PDF report ${JSON.stringify(pdfReport)}`);
  await api.close();

  return {
    entries,
    loadSeconds: round(loadSeconds, 1),
    optimizeSeconds: round(optimizeSeconds, 1),
    firstPageMs: firstPage,
    firstPageWithCountMs: firstPageWithCount,
    recordHistoryMs: history,
    stats30DaysMs: stats,
    topDeleters30DaysMs: deleters,
    csvExportHttp: csvExport,
    pdfReport1k: pdfReport,
    export: { seconds: round(exportSeconds, 2), entriesPerSecond: round(exportRate, 0), cpuSeconds: round(exportCpuSeconds, 2), entriesPerCpuSecond: round(exported / exportCpuSeconds, 0), rssBeforeMB: round(rssBefore, 1), rssMaxMB: round(rssMax, 1), rssGrowthMB: round(rssGrowthMB, 1) },
    targets: {
      firstPageP95: { target: `< ${TARGETS.firstPageP95Ms} ms`, met: firstPage.p95 < TARGETS.firstPageP95Ms },
      historyP95: { target: `< ${TARGETS.historyP95Ms} ms`, met: history.p95 < TARGETS.historyP95Ms },
      stats30Days: { target: `< ${TARGETS.stats30DaysMs} ms (max)`, met: stats.max < TARGETS.stats30DaysMs },
      exportRate: { target: `>= ${TARGETS.exportEntriesPerSecond} entries/s`, met: exportRate >= TARGETS.exportEntriesPerSecond },
      exportRssGrowth: { target: `< ${TARGETS.exportRssGrowthMB} MB`, met: rssGrowthMB < TARGETS.exportRssGrowthMB },
      pdf1kEntries: { target: `< ${TARGETS.pdf1kEntriesMs} ms (median)`, met: pdfReport.medianMs < TARGETS.pdf1kEntriesMs },
    },
    loadAverage: loadavg().map((l) => round(l, 2)),
    method: [
      `Entries linked into their chains in this process and inserted ${INSERT_BATCH} at a time into chDB (retention 0), then OPTIMIZE FINAL.`,
      `Log: transactions of 1-20 row changes over ${DAYS} days ending now, ${TABLES.length} tables (skewed: the first few busiest), ${ACTORS.length} actors, keys 0-${KEYS_PER_TABLE - 1} per table, 50% inserts, 35% updates, 15% deletes.`,
      'Each query: one warm-up, then the samples; first page = 100 entries of one table and op within a random 7-day range; history = one random key of the 5 busiest tables; stats = day buckets over the last 30 days grouped by table, actor or op.',
      'Export: every entry, pages of 5000 (the default) newest first, one read ahead; RSS of this process (chDB included) before and its max over the export.',
      'CSV over HTTP: GET /api/exports/entries.csv of every entry from an API in this process (same event loop as the client, which only counts lines); CPU of the whole process.',
      'PDF: GET /api/exports/report.pdf of a window of about 1,000 entries, 3 times (median, min, max); the time includes verifying their chain over the whole log.',
    ],
  };
}
