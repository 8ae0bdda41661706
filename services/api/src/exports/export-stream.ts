import { Readable } from 'node:stream';
import { describeError, type AuditEntry, type AuditQueries, type EntryFilter } from '@walaudit/core';
import { stringify } from 'csv-stringify/sync';
import { CSV_COLUMNS, csvRecord } from './export-rows.js';

/** The pages of an export, the first already read. */
export interface OpenedExport {
  first: AuditEntry[] | null;
  rest: AsyncIterator<AuditEntry[]>;
}

/**
 * Starts an export and waits for its first page: a bad filter, or a store that cannot be reached,
 * then fails the request with its own status and message, before anything is sent.
 */
export async function openExport(queries: AuditQueries, filter: EntryFilter, pageRows?: number): Promise<OpenedExport> {
  const rest = queries.exportEntries(filter, pageRows ? { pageRows } : {})[Symbol.asyncIterator]();
  const first = await rest.next();
  return { first: first.done ? null : first.value, rest };
}

/** Every page, the first one included; stopping early (the client went away) ends the store's read. */
export async function* pagesOf({ first, rest }: OpenedExport): AsyncGenerator<AuditEntry[]> {
  try {
    if (!first) return;
    yield first;
    for (;;) {
      const next = await rest.next();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await rest.return?.();
  }
}

/**
 * Entries per chunk of text: about 100 KB, small enough to die young (a page's text at once, some
 * MB, is a large object only a full collection frees: it cost half the CPU of an export in GC and
 * hundreds of MB of RSS).
 */
const CHUNK_ENTRIES = 200;

/** Only a delete or an update is ever caused by a foreign key. */
const mayBeCaused = (entry: AuditEntry) => entry.op === 'delete' || entry.op === 'update';

/**
 * CSV text a page at a time, RFC 4180 (CRLF line ends, fields quoted when they hold a comma, a
 * quote or a line break, quotes doubled): the header row comes with the first page (alone when
 * nothing matches). Each page's cascade parents are read in one query.
 */
export async function* csvChunks(pages: AsyncIterable<AuditEntry[]>, queries: Pick<AuditQueries, 'cascadeParents'>): AsyncGenerator<string> {
  let header = true;
  for await (const page of pages) {
    const caused = page.filter(mayBeCaused).map((entry) => entry.id);
    const parents = caused.length > 0 ? await queries.cascadeParents(caused) : new Map<string, string>();
    for (let start = 0; start < page.length; start += CHUNK_ENTRIES) {
      const records: string[][] = page.slice(start, start + CHUNK_ENTRIES).map((entry) => csvRecord(entry, parents.get(entry.id)));
      if (header) records.unshift([...CSV_COLUMNS]);
      header = false;
      yield stringify(records, { record_delimiter: 'windows' });
    }
  }
  if (header) yield stringify([[...CSV_COLUMNS]], { record_delimiter: 'windows' });
}

/** JSON lines: one entry per line, as GET /api/entries gives it, each line ended by `\n`. */
export async function* jsonLineChunks(pages: AsyncIterable<AuditEntry[]>): AsyncGenerator<string> {
  for await (const page of pages) {
    for (let start = 0; start < page.length; start += CHUNK_ENTRIES) {
      let text = '';
      for (const entry of page.slice(start, start + CHUNK_ENTRIES)) text += `${JSON.stringify(entry)}\n`;
      yield text;
    }
  }
}

/**
 * The chunks as a byte stream that reads the next page only when the client has taken the last
 * one (a high-water mark of one byte: one page of text is held, plus the store's read-ahead). A
 * failure after the first bytes destroys the stream with the error; Fastify then destroys the
 * response, so the client sees the connection cut before the chunked body's end, never a file
 * that merely stops.
 */
export function exportStream(chunks: AsyncIterable<string>, onFailure: (message: string) => void): Readable {
  async function* watched(): AsyncGenerator<string> {
    try {
      yield* chunks;
    } catch (error) {
      onFailure(`export failed mid-stream, connection cut: ${describeError(error)}`);
      throw error;
    }
  }
  return Readable.from(watched(), { objectMode: false, highWaterMark: 1 });
}
