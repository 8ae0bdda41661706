import { Readable } from 'node:stream';
import { CSV_CASCADE_PARENT, CSV_COLUMNS, CSV_OP, describeError, type AuditQueries } from '@walaudit/core';
import { stringify } from 'csv-stringify/sync';

/** The pages of an export, the first already read. */
export interface OpenedExport<T> {
  first: T | null;
  rest: AsyncIterator<T>;
}

/**
 * Starts an export and waits for its first page: a bad filter, or a store that cannot be reached,
 * then fails the request with its own status and message, before anything is sent.
 */
export async function openExport<T>(pages: AsyncIterable<T>): Promise<OpenedExport<T>> {
  const rest = pages[Symbol.asyncIterator]();
  const first = await rest.next();
  return { first: first.done ? null : first.value, rest };
}

/** Every page, the first one included; stopping early (the client went away) ends the store's read. */
export async function* pagesOf<T>({ first, rest }: OpenedExport<T>): AsyncGenerator<T> {
  try {
    if (first === null) return;
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
 * Records per chunk of text: about 100 KB, small enough to die young (a page's text at once, some
 * MB, is a large object only a full collection frees: it cost half the CPU of an export in GC and
 * hundreds of MB of RSS).
 */
const CHUNK_RECORDS = 100;
/** Bytes per chunk of JSON lines: a socket write each. */
const CHUNK_BYTES = 128 * 1024;
const LINE_FEED = 0x0a;

/** Only a delete or an update is ever caused by a foreign key. */
const mayBeCaused = (record: string[]) => record[CSV_OP] === 'delete' || record[CSV_OP] === 'update';

/**
 * CSV text a page of records at a time, RFC 4180 (CRLF line ends, fields quoted when they hold a
 * comma, a quote or a line break, quotes doubled): the header row comes with the first page (alone
 * when nothing matches). Each page's cascade parents are read in one query.
 */
export async function* csvChunks(pages: AsyncIterable<string[][]>, queries: Pick<AuditQueries, 'cascadeParents'>): AsyncGenerator<string> {
  let header = true;
  for await (const page of pages) {
    const caused = page.filter(mayBeCaused).map((record) => record[0]!);
    if (caused.length > 0) {
      const parents = await queries.cascadeParents(caused);
      if (parents.size > 0) for (const record of page) record[CSV_CASCADE_PARENT] = parents.get(record[0]!) ?? '';
    }
    for (let start = 0; start < page.length; start += CHUNK_RECORDS) {
      const records = page.slice(start, start + CHUNK_RECORDS);
      if (header) records.unshift([...CSV_COLUMNS]);
      header = false;
      yield stringify(records, { record_delimiter: 'windows' });
    }
  }
  if (header) yield stringify([[...CSV_COLUMNS]], { record_delimiter: 'windows' });
}

/** JSON lines as the store gives them (bytes), cut at line ends into chunks of about CHUNK_BYTES. */
export async function* jsonLineChunks(pages: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const bytes of pages) {
    for (let start = 0; start < bytes.length; ) {
      const cut = bytes.indexOf(LINE_FEED, Math.min(bytes.length - 1, start + CHUNK_BYTES));
      const end = cut < 0 ? bytes.length : cut + 1;
      yield bytes.subarray(start, end);
      start = end;
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
export function exportStream(chunks: AsyncIterable<string | Uint8Array>, onFailure: (message: string) => void): Readable {
  async function* watched(): AsyncGenerator<string | Uint8Array> {
    try {
      yield* chunks;
    } catch (error) {
      onFailure(`export failed mid-stream, connection cut: ${describeError(error)}`);
      throw error;
    }
  }
  return Readable.from(watched(), { objectMode: false, highWaterMark: 1 });
}
