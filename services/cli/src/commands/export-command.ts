import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { WalauditError, type WalauditConfig } from '@walaudit/core';
import { streamFromRunningInstance } from '../running-instance.js';
import { logFilterParams, type LogFlags } from './log-command.js';

export type ExportFormat = 'csv' | 'jsonl' | 'pdf';

/** The filter flags of `walaudit log`, and where and how to write. */
export interface ExportFlags extends Pick<LogFlags, 'table' | 'op' | 'actor' | 'ip' | 'application' | 'text' | 'traceId' | 'tag' | 'from' | 'since' | 'to' | 'pk' | 'xid'> {
  format: ExportFormat;
  out?: string;
  snapshots?: boolean;
}

const ROUTES: Record<ExportFormat, string> = { csv: '/api/exports/entries.csv', jsonl: '/api/exports/entries.jsonl', pdf: '/api/exports/report.pdf' };

/** The flags as the API's filter parameters, as `walaudit log` sends them. */
export function exportPath(flags: ExportFlags): string {
  const params = logFilterParams(flags);
  if (flags.snapshots) {
    if (flags.format !== 'pdf') throw new WalauditError('CONFIG_INVALID', '--snapshots is for --format pdf (CSV and JSON lines always hold the rows before and after)');
    params.set('snapshots', '1');
  }
  const query = params.toString();
  return `${ROUTES[flags.format]}${query ? `?${query}` : ''}`;
}

/**
 * `walaudit export`: the running instance's export, written as it arrives to --out or stdout. A
 * file appears only complete: it is written beside under `.part` and renamed at the end, and
 * removed when the server cuts the export (the store failed midway), so no truncated export looks
 * whole. On stdout a cut export exits 2 with the error.
 */
export async function exportCommand(config: WalauditConfig, flags: ExportFlags, stdout: Writable & { isTTY?: boolean }): Promise<void> {
  if (!ROUTES[flags.format]) throw new WalauditError('CONFIG_INVALID', `--format must be csv, jsonl or pdf, not ${flags.format}`);
  if (flags.format === 'pdf' && !flags.out && stdout.isTTY) {
    throw new WalauditError('CONFIG_INVALID', 'a PDF is binary and would garble the terminal: give --out FILE, or redirect stdout to a file');
  }
  const path = exportPath(flags);
  const response = await streamFromRunningInstance(config, path);
  if (!response) throw new WalauditError('SERVER_NOT_RUNNING', `walaudit export asks a running walaudit start, and nothing listens on port ${config.http.port}: start it, or give --http-port`);
  if (!response.body) throw new WalauditError('INTERNAL', 'the export came back without a body');
  const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  const cut = (error: unknown, written: string) =>
    new WalauditError('EXPORT_INCOMPLETE', `the export was cut before its end (${(error as Error).message}): ${written}; see the walaudit start log, then export again`, { cause: error });
  if (!flags.out) {
    try {
      await pipeline(body, stdout, { end: false });
    } catch (error) {
      // A reader that closed the pipe (`walaudit export ... | head`) chose to stop: not an error.
      if ((error as NodeJS.ErrnoException).code === 'EPIPE') return;
      throw cut(error, 'what reached stdout is incomplete');
    }
    return;
  }
  const part = `${flags.out}.part`;
  try {
    await pipeline(body, createWriteStream(part, { mode: 0o600 }));
  } catch (error) {
    await rm(part, { force: true });
    throw cut(error, `${flags.out} was not written`);
  }
  await rename(part, flags.out);
}
