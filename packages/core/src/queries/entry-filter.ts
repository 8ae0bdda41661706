import { canonicalJson } from '../canonical-json.js';
import { CHANGE_OPS, type ChangeOp, type RowImage } from '../change-event.types.js';
import { WalauditError } from '../errors.js';
import { STATS_BUCKETS, STATS_GROUPS, type EntryFilter, type StatsRequest } from './audit-queries.types.js';

/** Most entries one page may hold: a page is built in memory, on both sides. */
export const MAX_PAGE_ENTRIES = 10_000;

/**
 * Most time buckets one stats request may span: every bucket is a row of the answer (times each
 * group), so a minute bucket over a year (525,600 of them) is refused rather than built.
 */
export const MAX_STATS_BUCKETS = 2_000;

/** The length of a bucket; months and weeks at their shortest, so the count errs on the high side. */
const BUCKET_MS: Record<StatsRequest['bucket'], number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000, week: 7 * 86_400_000, month: 28 * 86_400_000 };

/** A table as a filter names it: `schema.table`, or a bare name matching any schema. */
export interface TableName {
  schema?: string;
  name: string;
}

/** An EntryFilter checked and put in the forms a store compares with. */
export interface CheckedFilter {
  tables: TableName[];
  ops: ChangeOp[];
  actor?: string;
  clientIp?: string;
  application?: string;
  xid?: number;
  /** ISO 8601 UTC with microseconds, as commit times are stored. */
  from?: string;
  to?: string;
  /** The row's table and its key as the canonical JSON the stored `pk` holds. */
  key?: { table: TableName; pkJson: string };
  /** The text as it reads inside a canonical JSON string (escaped as JSON escapes it). */
  text?: { plain: string; escaped: string };
  /** Lower-case, as traces are stored. */
  traceId?: string;
  tags?: Array<{ key: string; value: string }>;
}

function invalid(filter: string, message: string): WalauditError {
  return new WalauditError('CONFIG_INVALID', `filter ${filter}: ${message}`);
}

/** `schema.table` or `table`; the first dot splits (Postgres names seldom hold one). */
export function parseTableName(text: string, filter = 'table'): TableName {
  const trimmed = text.trim();
  if (trimmed === '') throw invalid(filter, 'a table name is empty');
  const dot = trimmed.indexOf('.');
  if (dot < 0) return { name: trimmed };
  const schema = trimmed.slice(0, dot);
  const name = trimmed.slice(dot + 1);
  if (schema === '' || name === '') throw invalid(filter, `"${text}" is not schema.table`);
  return { schema, name };
}

/** ISO 8601 in, ISO 8601 UTC with microseconds out (the stored commit time's form). */
export function checkTime(value: string, filter: string): string {
  const millis = Date.parse(value);
  if (value.trim() === '' || Number.isNaN(millis)) throw invalid(filter, `"${value}" is not an ISO 8601 time (2026-03-01T10:00:00Z)`);
  // Microseconds given are kept: Date would round them to milliseconds.
  const micros = /\.(\d{4,6})\d*(?:Z|[+-]\d\d:?\d\d)?$/i.exec(value.trim());
  const iso = new Date(millis).toISOString();
  return micros ? `${iso.slice(0, 20)}${micros[1]!.padEnd(6, '0')}Z` : `${iso.slice(0, 23)}000Z`;
}

/** A primary key as given (values as text; numbers accepted and written as text) to its stored form. */
export function keyJson(pk: RowImage, filter = 'key'): string {
  if (pk === null || typeof pk !== 'object' || Array.isArray(pk) || Object.keys(pk).length === 0) {
    throw invalid(filter, 'the primary key must name at least one column and its value');
  }
  const text: Record<string, string | null> = {};
  for (const [column, value] of Object.entries(pk as Record<string, unknown>)) {
    if (value === null) text[column] = null;
    else if (typeof value === 'string') text[column] = value;
    else if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') text[column] = String(value);
    else throw invalid(filter, `column ${column}: a key value must be text (its Postgres text form)`);
  }
  return canonicalJson(text);
}

/** Checks every member; the message names the first bad one. */
export function checkEntryFilter(filter: EntryFilter): CheckedFilter {
  const checked: CheckedFilter = { tables: [], ops: [] };
  for (const table of filter.tables ?? []) checked.tables.push(parseTableName(table, 'tables'));
  for (const op of filter.ops ?? []) {
    if (!CHANGE_OPS.includes(op)) throw invalid('ops', `"${op}" is not one of ${CHANGE_OPS.join(', ')}`);
    checked.ops.push(op);
  }
  for (const name of ['actor', 'clientIp', 'application'] as const) {
    const value = filter[name];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value === '') throw invalid(name, 'must be a non-empty text');
    checked[name] = value;
  }
  if (filter.xid !== undefined) {
    if (!Number.isSafeInteger(filter.xid) || filter.xid < 0) throw invalid('xid', `${filter.xid} is not a transaction id`);
    checked.xid = filter.xid;
  }
  if (filter.from !== undefined) checked.from = checkTime(filter.from, 'from');
  if (filter.to !== undefined) checked.to = checkTime(filter.to, 'to');
  if (checked.from !== undefined && checked.to !== undefined && checked.from >= checked.to) {
    throw invalid('to', `${filter.to} is not after from (${filter.from})`);
  }
  if (filter.key !== undefined) {
    if (typeof filter.key.table !== 'string') throw invalid('key', 'names no table');
    checked.key = { table: parseTableName(filter.key.table, 'key'), pkJson: keyJson(filter.key.pk) };
  }
  if (filter.text !== undefined) {
    if (typeof filter.text !== 'string' || filter.text === '') throw invalid('text', 'must be a non-empty text');
    checked.text = { plain: filter.text, escaped: JSON.stringify(filter.text).slice(1, -1) };
  }
  if (filter.traceId !== undefined) {
    if (typeof filter.traceId !== 'string' || !/^[0-9a-fA-F]{32}$/.test(filter.traceId)) throw invalid('traceId', `"${filter.traceId}" is not a W3C trace id (32 hex digits)`);
    checked.traceId = filter.traceId.toLowerCase();
  }
  if (filter.tags !== undefined) {
    const tags = Object.entries(filter.tags);
    if (tags.length === 0) throw invalid('tags', 'names no tag');
    for (const [key, value] of tags) {
      if (key === '' || typeof value !== 'string') throw invalid('tags', `give each tag as key=value (${key || 'an empty key'})`);
    }
    checked.tags = tags.map(([key, value]) => ({ key, value }));
  }
  return checked;
}

/** `key=value` (the first `=` splits; the value may be empty) as a filter's tag; the message names the bad one. */
export function parseTagFilter(text: string, filter = 'tag'): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw invalid(filter, `"${text}" is not key=value`);
  return [text.slice(0, eq), text.slice(eq + 1)];
}

/** A page size: 1 to MAX_PAGE_ENTRIES. */
export function checkLimit(limit: number, filter = 'limit', max = MAX_PAGE_ENTRIES): number {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > max) throw invalid(filter, `${limit} is not a count from 1 to ${max}`);
  return limit;
}

/** A stats request with its range checked (both ends required: stats never scan the whole log by accident). */
export function checkStatsRequest(request: StatsRequest): { filter: CheckedFilter; from: string; to: string } {
  if (!STATS_BUCKETS.includes(request.bucket)) throw invalid('bucket', `"${request.bucket}" is not one of ${STATS_BUCKETS.join(', ')}`);
  if (!STATS_GROUPS.includes(request.groupBy)) throw invalid('groupBy', `"${request.groupBy}" is not one of ${STATS_GROUPS.join(', ')}`);
  if (request.from === undefined || request.to === undefined) throw invalid('from', 'stats need both from and to');
  const filter = checkEntryFilter({ ...request.filter, from: request.from, to: request.to });
  const buckets = Math.ceil((Date.parse(filter.to!) - Date.parse(filter.from!)) / BUCKET_MS[request.bucket]);
  if (buckets > MAX_STATS_BUCKETS) {
    throw invalid('bucket', `${buckets} ${request.bucket} buckets from ${request.from} to ${request.to}: at most ${MAX_STATS_BUCKETS}; take a larger bucket or a shorter range`);
  }
  return { filter, from: filter.from!, to: filter.to! };
}
