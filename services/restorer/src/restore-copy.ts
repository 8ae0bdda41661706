import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { InsertStep } from '@walaudit/core';
import { quoteIdent, quoteTable } from '@walaudit/pg';

const SPECIAL = /[\\\n\r\t]/;
const SPECIALS = /[\\\n\r\t]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * One value in COPY's text format: the type's output text, as the WAL carried it, goes through the
 * column type's input function exactly as `'text'::type` would (the plan keeps a column only when
 * its type is unchanged); NULL is \N.
 */
export function copyField(value: string | null): string {
  if (value === null) return '\\N';
  return SPECIAL.test(value) ? value.replace(SPECIALS, (c) => ESCAPES[c]!) : value;
}

/**
 * COPY writes given values into identity columns, GENERATED ALWAYS too (as INSERT with
 * OVERRIDING SYSTEM VALUE does), and fires the same statement and row triggers as INSERT.
 */
export function copySql(sample: InsertStep): string {
  return `COPY ${quoteTable(sample.schema, sample.table)} (${sample.columns.map((c) => quoteIdent(c.name)).join(', ')}) FROM STDIN`;
}

/**
 * Inserts steps of one shape (see batchShape) with one COPY statement: Postgres inserts them in
 * multi-row batches, faster than INSERT ... SELECT FROM unnest() with casts. The text is built in
 * chunks of `chunkRows` while the server loads the previous ones; `onChunk` counts rows sent.
 */
export async function copySteps(tx: pg.ClientBase, steps: readonly InsertStep[], chunkRows: number, onChunk: (rows: number) => void): Promise<void> {
  const width = steps[0]!.columns.length;
  function* chunks(): Generator<string> {
    for (let start = 0; start < steps.length; start += chunkRows) {
      const end = Math.min(steps.length, start + chunkRows);
      let text = '';
      for (let i = start; i < end; i++) {
        const values = steps[i]!.values;
        for (let c = 0; c < width; c++) text += c === 0 ? copyField(values[c] ?? null) : `\t${copyField(values[c] ?? null)}`;
        text += '\n';
      }
      yield text;
      onChunk(end - start);
    }
  }
  const stream = tx.query(copyFrom(copySql(steps[0]!)));
  await pipeline(Readable.from(chunks(), { objectMode: false }), stream);
}
