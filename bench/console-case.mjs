// The `console` case: the web console in headless chromium (Debian's, through playwright-core) on
// a big audit log. Loads N entries into an embedded store as the queries case does, serves the API
// and the built console from this process, then times what a user waits for:
//   overview interactive: navigation start -> counters, chart and top deleters drawn (fresh tab);
//   next page of the log: click -> the next 50 entries shown (unfiltered, and one table + op);
//   an entry: click in the log -> its page with snapshot and hash check shown.
// Times are taken in the page (performance.now()), medians with min and max over the samples.
// Also prints the built JavaScript's gzip size.
//
//   BENCH_CASES=console npm run bench            (inside the whole bench)
//   node bench/console-case.mjs                  (alone; uses the existing dist)
//   BENCH_CONSOLE_ENTRIES (1000000), BENCH_CONSOLE_SAMPLES (10)
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { openClickHouseStores } from '@walaudit/clickhouse';
import { chromium } from 'playwright-core';
import { onCleanup, runCleanups } from './cleanup.mjs';
import { startBenchApi } from './exports-http.mjs';
import { loadForExperiments } from './queries-case.mjs';
import { round, summarize } from './stats.mjs';

const TARGETS = { overviewInteractiveMs: 1500, nextPageMs: 300, entryMs: 300, gzipKB: 400 };
const CONSOLE_DIST = fileURLToPath(new URL('../services/console/dist/assets/', import.meta.url));

export function consoleBundleSize() {
  let raw = 0;
  let gzip = 0;
  for (const name of readdirSync(CONSOLE_DIST).filter((file) => file.endsWith('.js'))) {
    const bytes = readFileSync(join(CONSOLE_DIST, name));
    raw += bytes.length;
    gzip += gzipSync(bytes, { level: 9 }).length;
  }
  return { jsKB: round(raw / 1024, 1), jsGzipKB: round(gzip / 1024, 1) };
}

// Page-side steps as self-contained functions, not strings: Playwright evaluates a string
// predicate with eval, which the console's Content-Security-Policy (rightly) forbids.
const overviewReady = () =>
  document.querySelector('.chart canvas') && document.querySelectorAll('table tbody tr td a').length > 0 && document.querySelector('[data-testid=count-deleted-today]')?.textContent !== '…'
    ? performance.now()
    : false;
const firstLink = () => document.querySelector('tbody tr td a')?.getAttribute('href') ?? null;
const clickNext = () => {
  window.__benchStart = performance.now();
  [...document.querySelectorAll('nav.pager a')].find((a) => a.textContent === 'Next page').click();
};
const pageChanged = (before) => {
  const href = document.querySelector('tbody tr td a')?.getAttribute('href');
  return href && href !== before && !document.body.textContent.includes('Loading…') ? performance.now() - window.__benchStart : false;
};
const clickEntry = (index) => {
  window.__benchStart = performance.now();
  document.querySelectorAll('tbody tr td a[href^="/entries/"]')[index].click();
};
const entryShown = () => (document.querySelector('[data-testid=chain]') ? performance.now() - window.__benchStart : false);

/** Runs `start(startArg)` in the page, then waits for `done(doneArg)`: the milliseconds it returns. */
async function timeInPage(page, start, startArg, done, doneArg) {
  await page.evaluate(start, startArg);
  return (await page.waitForFunction(done, doneArg, { polling: 'raf', timeout: 30_000 })).jsonValue();
}

export async function measureConsole({ entries, samples, log }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'walaudit-bench-console-'));
  onCleanup(() => rmSync(dataDir, { recursive: true, force: true }));
  const stores = await openClickHouseStores({ dataDir, database: 'walaudit' });
  onCleanup(() => stores.close().catch(() => undefined));
  log(`console: loading ${entries} entries into chDB`);
  await loadForExperiments(stores, entries);
  await stores.audit.command(`OPTIMIZE TABLE ${stores.audit.table('audit_log')} FINAL`);
  const { api, token, get } = await startBenchApi(stores);
  onCleanup(() => api.close().catch(() => undefined));
  const browser = await chromium.launch({ executablePath: process.env.WALAUDIT_CHROMIUM ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-background-networking', '--disable-dev-shm-usage'] });
  onCleanup(() => browser.close().catch(() => undefined));
  const newPage = async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addInitScript(`sessionStorage.setItem('walaudit.token', ${JSON.stringify(token)})`);
    return { context, page: await context.newPage() };
  };

  const overview = [];
  for (let i = -1; i < samples; i++) {
    const { context, page } = await newPage();
    await page.goto(`${api.url}/`, { waitUntil: 'commit' });
    const ms = await (await page.waitForFunction(overviewReady, undefined, { polling: 'raf', timeout: 30_000 })).jsonValue();
    if (i >= 0) overview.push(ms); // the first is a warm-up: the store's first reads of each column
    await context.close();
  }
  log(`console: overview interactive ${JSON.stringify(summarize(overview))} ms`);

  const nextPage = async (path) => {
    const { context, page } = await newPage();
    await page.goto(`${api.url}${path}`);
    await page.waitForSelector('nav.pager a >> text=Next page');
    const times = [];
    for (let i = -1; i < samples; i++) {
      const first = await page.evaluate(firstLink);
      const ms = await timeInPage(page, clickNext, undefined, pageChanged, first);
      if (i >= 0) times.push(ms);
    }
    await context.close();
    return times;
  };
  const nextUnfiltered = await nextPage('/log');
  log(`console: next page, no filter ${JSON.stringify(summarize(nextUnfiltered))} ms`);
  const nextFiltered = await nextPage('/log?table=table_00&op=delete');
  log(`console: next page, table + op ${JSON.stringify(summarize(nextFiltered))} ms`);

  const entry = [];
  {
    const { context, page } = await newPage();
    for (let i = -1; i < samples; i++) {
      await page.goto(`${api.url}/log?table=table_0${i < 0 ? 0 : i % 10}`);
      await page.waitForSelector('tbody tr td a[href^="/entries/"]');
      const ms = await timeInPage(page, clickEntry, Math.max(0, i) % 20, entryShown, undefined);
      if (i >= 0) entry.push(ms);
    }
    await context.close();
  }
  log(`console: entry ${JSON.stringify(summarize(entry))} ms`);
  await browser.close();
  // The same requests straight to the API, to tell the console's share from the store's.
  const apiTimes = async (paths) => {
    const times = [];
    for (const path of paths) {
      const t = performance.now();
      const response = await get(path);
      await response.arrayBuffer();
      times.push(performance.now() - t);
    }
    return summarize(times);
  };
  const firstPage = await (await get('/api/entries?limit=50')).json();
  const ids = firstPage.entries.slice(0, samples).map((e) => e.id);
  const apiNextPage = await apiTimes(Array.from({ length: samples }, () => `/api/entries?limit=50&cursor=${encodeURIComponent(firstPage.nextCursor)}`));
  const apiEntry = await apiTimes(ids.map((id) => `/api/entries/${id}`));
  log(`console: API alone: next page ${JSON.stringify(apiNextPage)} ms, entry ${JSON.stringify(apiEntry)} ms`);
  await api.close();

  const bundle = consoleBundleSize();
  const med = (values) => summarize(values).median;
  return {
    entries,
    bundle,
    overviewInteractiveMs: summarize(overview),
    nextPageMs: summarize(nextUnfiltered),
    nextPageFilteredMs: summarize(nextFiltered),
    entryMs: summarize(entry),
    apiAloneMs: { nextPage: apiNextPage, entry: apiEntry },
    targets: {
      overviewInteractive: { target: `< ${TARGETS.overviewInteractiveMs} ms (median)`, met: med(overview) < TARGETS.overviewInteractiveMs },
      nextPage: { target: `< ${TARGETS.nextPageMs} ms (median)`, met: med(nextUnfiltered) < TARGETS.nextPageMs && med(nextFiltered) < TARGETS.nextPageMs },
      entry: { target: `< ${TARGETS.entryMs} ms (median)`, met: med(entry) < TARGETS.entryMs },
      jsGzip: { target: `< ${TARGETS.gzipKB} kB`, met: bundle.jsGzipKB < TARGETS.gzipKB },
    },
    method: [
      'Entries as in the queries case (20 tables, 50 actors, 90 days), in chDB, OPTIMIZE FINAL; the API and the built console served from this process, rate limit off.',
      `Each measurement taken in the page with performance.now(); one warm-up, then ${samples} samples. Overview: a fresh browser context per sample (no cached assets), from navigation start until the chart, the top deleters and today's deletions are drawn.`,
      'Next page: a click on "Next page" until the next 50 entries replace the table; unfiltered, and table_00 + delete. Entry: a click on an entry of the log until its page shows the hash check.',
    ],
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const log = (line) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  try {
    const result = await measureConsole({ entries: Number(process.env.BENCH_CONSOLE_ENTRIES ?? 1_000_000), samples: Number(process.env.BENCH_CONSOLE_SAMPLES ?? 10), log });
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await runCleanups();
  }
}
