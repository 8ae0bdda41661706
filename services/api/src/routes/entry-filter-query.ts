import { CHANGE_OPS, WalauditError, parseTagFilter, type ChangeOp, type EntryFilter, type RowImage } from '@walaudit/core';
import { z } from 'zod';

/** `a,b` or the parameter given twice: both mean either. */
const list = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : [value]).flatMap((item) => item.split(',')).map((item) => item.trim()).filter((item) => item !== ''));

/**
 * The filter every list of entries takes (search, count, exports), as URL parameters. Each given
 * parameter narrows (AND); a list parameter matches any of its values. The store checks the values
 * themselves (times, table names) and names the bad one.
 */
export const entryFilterQuery = z.object({
  table: list.optional().describe('Tables, schema.table or a bare name in any schema; several: table=a&table=b or table=a,b'),
  op: list
    .pipe(z.array(z.enum(CHANGE_OPS)))
    .optional()
    .describe(`Operations: ${CHANGE_OPS.join(', ')}; several as for table`),
  actor: z.string().min(1).optional().describe('Application user (withAuditContext) or database user'),
  ip: z.string().min(1).optional().describe('Client address'),
  application: z.string().min(1).optional().describe('Postgres application_name of the session'),
  xid: z.coerce.number().int().min(0).optional().describe('Transaction id'),
  from: z.string().min(1).optional().describe('Committed at or after this time (ISO 8601, 2026-03-01T10:00:00Z)'),
  to: z.string().min(1).optional().describe('Committed before this time (ISO 8601)'),
  pk: z.string().min(1).optional().describe('Primary key of one row as JSON, {"id":"42"} (values as Postgres prints them); needs exactly one table'),
  text: z.string().min(1).optional().describe('Text inside a value of the row before or after the change, case-insensitive'),
  traceId: z
    .string()
    .regex(/^[0-9a-fA-F]{32}$/, 'a W3C trace id is 32 hex digits')
    .optional()
    .describe("W3C trace id of the statement (32 hex digits), from its sqlcommenter traceparent tag"),
  tag: z
    .union([z.string(), z.array(z.string())])
    .transform((value) => (Array.isArray(value) ? value : [value]))
    .optional()
    .describe('sqlcommenter tag of the statement as key=value, exact; several (tag=a=1&tag=b=2): all of them. Not split at commas: a value may hold one'),
});

export type EntryFilterQuery = z.infer<typeof entryFilterQuery>;

/** A primary key given as JSON text in a URL. */
export function parseKey(text: string): RowImage {
  try {
    return JSON.parse(text) as RowImage;
  } catch {
    throw new WalauditError('API_BAD_REQUEST', `pk is not JSON: give the key as {"id":"42"}`);
  }
}

/** The URL's filter as the store's EntryFilter. */
export function toEntryFilter(query: EntryFilterQuery): EntryFilter {
  const filter: EntryFilter = {};
  if (query.table?.length) filter.tables = query.table;
  if (query.op?.length) filter.ops = query.op as ChangeOp[];
  if (query.actor) filter.actor = query.actor;
  if (query.ip) filter.clientIp = query.ip;
  if (query.application) filter.application = query.application;
  if (query.xid !== undefined) filter.xid = query.xid;
  if (query.from) filter.from = query.from;
  if (query.to) filter.to = query.to;
  if (query.text) filter.text = query.text;
  if (query.traceId) filter.traceId = query.traceId;
  if (query.tag?.length) {
    const tags: Record<string, string> = {};
    for (const text of query.tag) {
      const [key, value] = parseTagFilter(text);
      if (Object.prototype.hasOwnProperty.call(tags, key)) throw new WalauditError('API_BAD_REQUEST', `tag ${key} is given twice: an entry holds one value per tag`);
      tags[key] = value;
    }
    filter.tags = tags;
  }
  if (query.pk !== undefined) {
    if (filter.tables?.length !== 1) throw new WalauditError('API_BAD_REQUEST', 'pk needs exactly one table: add table=schema.table');
    filter.key = { table: filter.tables[0]!, pk: parseKey(query.pk) };
  }
  return filter;
}
