// Where walaudit's own CPU goes, without the store: decodes a DELETE of N rows from a real slot and
// runs it through the reader alone (MODE=decode) or the reader and the audit writer, whose store
// encodes every batch as the ClickHouse store does and then discards it (MODE=writer). Prints one
// JSON line: CPU ms and GC ms per 1,000 events (this process only: Postgres' walsender is not
// counted), which change far less with other load on the machine than events/s do.
//
//   npm run build && node bench/pipeline-without-store.mjs      (N=300000 MODE=writer BATCH=10000)
import { PerformanceObserver } from 'node:perf_hooks';
import pg from 'pg';
import { startLocalPostgres, runSetup, PgReplicationSource } from '@walaudit/pg';
import { createWalReader } from '@walaudit/wal-reader';
import { createAuditWriter } from '@walaudit/audit-writer';
import { ClickHouseStore } from '@walaudit/clickhouse';

const N = Number(process.env.N ?? 300000);
const mode = process.env.MODE ?? 'writer';
const batchSize = Number(process.env.BATCH ?? 10000);

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
}).observe({ entryTypes: ['gc'] });

const server = await startLocalPostgres({ durable: false });
try {
  const c = new pg.Client(server.url);
  await c.connect();
  await c.query(`CREATE TABLE bench (id bigint PRIMARY KEY, a text, b int, c timestamptz, d numeric(12,2))`);
  await c.query(`INSERT INTO bench SELECT g, 'text value ' || g, g % 1000, now(), g / 7.0 FROM generate_series(1, ${N}) g`);
  await runSetup(server.url, { slot: 'walaudit', publication: 'walaudit', tables: [], dryRun: false, log: () => {} });
  await c.query('DELETE FROM bench');
  await c.end();
  let stored = 0;
  let bytes = 0;
  const store = {
    chainHeads: async () => [],
    knownShapes: async () => new Map(),
    // The ClickHouse store's own encoding, without the store (only its batch size memory).
    startBatch() {
      return ClickHouseStore.prototype.startBatch.call(this);
    },
    lastBatchBytes: 0,
    insertPrepared: async (prepared) => {
      await new Promise((resolve) => setImmediate(resolve));
      stored += prepared.entries;
      bytes += prepared.rows.length;
    },
  };
  const writer = createAuditWriter({ store, rules: { rules: [], defaultRetentionDays: 90 }, retry: { initialMs: 10, maxMs: 10 } });
  await writer.init();
  const sink = mode === 'writer' ? writer : { write: async (events) => void (stored += events.length) };
  const source = new PgReplicationSource({ url: server.url, slot: 'walaudit', publication: 'walaudit' });
  const reader = createWalReader({ source, sink, options: { batchSize, flushIntervalMs: 200 } });
  let heapPeak = 0;
  const t = performance.now();
  const cpu = process.cpuUsage();
  gcMs = 0;
  const done = reader.run();
  while (stored < N) {
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    await new Promise((r) => setTimeout(r, 20));
  }
  const used = process.cpuUsage(cpu);
  const s = (performance.now() - t) / 1000;
  const per1k = (ms) => Math.round((ms / N) * 1000 * 100) / 100;
  console.log(
    JSON.stringify({
      mode,
      N,
      batchSize,
      seconds: s.toFixed(2),
      eventsPerSecond: Math.round(N / s),
      cpuMsPer1kEvents: per1k((used.user + used.system) / 1000),
      gcMsPer1kEvents: per1k(gcMs),
      tsvBytesPerEvent: mode === 'writer' ? Math.round(bytes / N) : null,
      heapPeakMB: Math.round(heapPeak / 1e6),
      rssMB: Math.round(process.memoryUsage().rss / 1e6),
      nodeFlags: process.execArgv.join(' '),
    }),
  );
  await reader.stop();
  await done;
} finally {
  await server.stop();
}
