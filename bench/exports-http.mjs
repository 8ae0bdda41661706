// The API's exports on the queries case's store, in this process: the CSV export of every entry
// over HTTP (entries/s, CPU, RSS growth) and the PDF report of about 1,000 entries (its time,
// the verification of their chain over the whole log included).
import { performance } from 'node:perf_hooks';
import { newApiToken, startApiServer } from '@walaudit/api';
import { parseConfig } from '@walaudit/core';
import { Registry } from 'prom-client';
import { readProcMemory } from './proc-memory.mjs';
import { round } from './stats.mjs';

const rssMB = () => readProcMemory(process.pid)?.rssMB ?? process.memoryUsage().rss / 1024 ** 2;

export async function startBenchApi(stores) {
  const { http } = parseConfig({ http: { port: 0, rateLimitPerMinute: 0 } });
  const { token } = newApiToken();
  const api = await startApiServer({ http, status: async () => ({}), store: stores.audit, queries: stores.queries, registry: new Registry(), localToken: { token, file: '(bench)' } });
  const get = (path) => fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { api, get, token };
}

/** GET /api/exports/entries.csv of every entry, read as it comes: records counted by their CRLF. */
export async function measureCsvExport(get, expected) {
  global.gc?.();
  const rssBefore = rssMB();
  let rssMax = rssBefore;
  let bytes = 0;
  let lineEnds = 0;
  const cpuBefore = process.cpuUsage();
  const t = performance.now();
  const response = await get('/api/exports/entries.csv');
  if (response.status !== 200) throw new Error(`CSV export answered ${response.status}: ${await response.text()}`);
  let chunks = 0;
  for await (const chunk of response.body) {
    bytes += chunk.length;
    for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) lineEnds++;
    if (++chunks % 64 === 0) rssMax = Math.max(rssMax, rssMB());
  }
  const seconds = (performance.now() - t) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const records = lineEnds - 1;
  if (records !== expected) throw new Error(`the CSV export held ${records} records, ${expected} were loaded`);
  return {
    seconds: round(seconds, 2),
    entriesPerSecond: round(records / seconds, 0),
    cpuMsPer1kEntries: round((cpuSeconds * 1e6) / records, 1),
    megabytes: round(bytes / 1024 ** 2, 1),
    rssBeforeMB: round(rssBefore, 1),
    rssGrowthMB: round(rssMax - rssBefore, 1),
  };
}

/** GET /api/exports/report.pdf over a window of about `wanted` entries, timed `samples` times. */
export async function measurePdfReport(get, queries, window, samples = 3) {
  const entries = await queries.countMatches(window);
  const params = new URLSearchParams(window).toString();
  const times = [];
  let bytes = 0;
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    const response = await get(`/api/exports/report.pdf?${params}`);
    const pdf = Buffer.from(await response.arrayBuffer());
    if (response.status !== 200) throw new Error(`PDF report answered ${response.status}: ${pdf.toString()}`);
    times.push(performance.now() - t);
    bytes = pdf.length;
  }
  times.sort((a, b) => a - b);
  return { entries, medianMs: round(times[Math.floor(times.length / 2)], 0), minMs: round(times[0], 0), maxMs: round(times.at(-1), 0), kilobytes: round(bytes / 1024, 0) };
}
