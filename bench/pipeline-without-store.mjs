// Where the time goes without the store: decodes a DELETE of N rows from a real slot and runs it
// through the reader alone (MODE=decode) or the reader and the audit writer with a store that
// discards (MODE=writer). Prints one JSON line. `node bench/pipeline-without-store.mjs` after a build.
import { startLocalPostgres, runSetup, PgReplicationSource } from '@walaudit/pg';
import { createWalReader } from '@walaudit/wal-reader';
import { createAuditWriter } from '@walaudit/audit-writer';
import pg from 'pg';
const N = Number(process.env.N ?? 300000);
const mode = process.env.MODE ?? 'writer';
const server = await startLocalPostgres({ durable: false });
try {
  const c = new pg.Client(server.url); await c.connect();
  await c.query(`CREATE TABLE bench (id bigint PRIMARY KEY, a text, b int, c timestamptz, d numeric(12,2))`);
  await c.query(`INSERT INTO bench SELECT g, 'text value ' || g, g % 1000, now(), g / 7.0 FROM generate_series(1, ${N}) g`);
  await runSetup(server.url, { slot: 'walaudit', publication: 'walaudit', tables: [], dryRun: false, log: () => {} });
  await c.query('DELETE FROM bench');
  await c.end();
  let stored = 0;
  const store = { chainHeads: async () => [], knownShapes: async () => new Map(), insertEntries: async (e) => { stored += e.length; } };
  const writer = createAuditWriter({ store, rules: { rules: [], defaultRetentionDays: 90 }, retry: { initialMs: 10, maxMs: 10 } });
  await writer.init();
  let seen = 0;
  const sink = mode === 'writer' ? writer : { write: async (events) => { seen += events.length; stored = seen; } };
  const source = new PgReplicationSource({ url: server.url, slot: 'walaudit', publication: 'walaudit' });
  const reader = createWalReader({ source, sink, options: { batchSize: 10000, flushIntervalMs: 200 } });
  const t = performance.now();
  const done = reader.run();
  while (stored < N) await new Promise((r) => setTimeout(r, 20));
  const s = (performance.now() - t) / 1000;
  console.log(JSON.stringify({ mode, N, seconds: s.toFixed(2), eventsPerSecond: Math.round(N / s), heapMB: Math.round(process.memoryUsage().heapUsed / 1e6), rssMB: Math.round(process.memoryUsage().rss / 1e6) }));
  await reader.stop(); await done;
} finally { await server.stop(); }
