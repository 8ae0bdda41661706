import { MAX_PAGE_ENTRIES, WalauditError, type AuditEntry, type EntryPage, type WalauditConfig } from '@walaudit/core';
import { entryFilterOfParams } from '@walaudit/api';
import { formatEntry } from '../format-entry.js';
import { readPages } from './page-reader.js';

/** Entries asked per request: the first lines show at once, and a page stays small in memory. */
export const LOG_PAGE_SIZE = 1000;

export interface LogFlags {
  table?: string[];
  op?: string[];
  actor?: string;
  ip?: string;
  application?: string;
  text?: string;
  traceId?: string;
  /** `key=value`, repeated: all of them. */
  tag?: string[];
  from?: string;
  /** The older name of --from. */
  since?: string;
  to?: string;
  pk?: string;
  xid?: string;
  limit?: string;
  /** Entries per request (hidden; tests page with small pages). */
  pageSize?: string;
  json?: boolean;
}

/** A count given on the command line: a whole number from 1 (to max). */
export function countFlag(text: string, flag: string, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < 1 || value > max) throw new WalauditError('CONFIG_INVALID', `${flag} must be a whole number from 1${max === Number.MAX_SAFE_INTEGER ? '' : ` to ${max}`}, not "${text}"`);
  return value;
}

/** The flags as the URL filter of GET /api/entries (one parameter per table and op). */
export function logFilterParams(flags: LogFlags): URLSearchParams {
  if (flags.from !== undefined && flags.since !== undefined) throw new WalauditError('CONFIG_INVALID', '--since is the older name of --from: give one of them');
  if (flags.pk !== undefined && flags.table?.length !== 1) throw new WalauditError('CONFIG_INVALID', '--pk needs exactly one --table: the table of the row (schema.table)');
  const params = new URLSearchParams();
  for (const table of flags.table ?? []) params.append('table', table);
  for (const op of flags.op ?? []) params.append('op', op);
  for (const tag of flags.tag ?? []) params.append('tag', tag);
  const single = { actor: flags.actor, ip: flags.ip, application: flags.application, text: flags.text, traceId: flags.traceId, from: flags.from ?? flags.since, to: flags.to, pk: flags.pk, xid: flags.xid };
  for (const [key, value] of Object.entries(single)) if (value !== undefined) params.set(key, value);
  return params;
}

/** `walaudit log`: entries newest first, any number of them, a page at a time. */
export async function logCommand(config: WalauditConfig, flags: LogFlags, out: (line: string) => void): Promise<void> {
  const limit = countFlag(flags.limit ?? '50', '--limit');
  const pageSize = flags.pageSize === undefined ? LOG_PAGE_SIZE : countFlag(flags.pageSize, '--page-size', MAX_PAGE_ENTRIES);
  const params = logFilterParams(flags);
  // Checked here first: a bad filter is the same usage error whether or not walaudit runs.
  const filter = entryFilterOfParams(params);
  const print = flags.json ? (entry: AuditEntry) => out(JSON.stringify(entry)) : (entry: AuditEntry) => out(formatEntry(entry));
  const shown = await readPages<AuditEntry, EntryPage>(
    config,
    {
      path: (pageLimit, cursor) => {
        const page = new URLSearchParams(params);
        page.set('limit', String(pageLimit));
        if (cursor !== undefined) page.set('cursor', cursor);
        return `/api/entries?${page.toString()}`;
      },
      unwrap: (answer) => ({ items: answer.entries, nextCursor: answer.nextCursor }),
      offline: (stores) => async (pageLimit, cursor) => {
        const page = await stores.queries.searchEntries({ filter, limit: pageLimit, cursor });
        return { items: page.entries, nextCursor: page.nextCursor };
      },
    },
    limit,
    pageSize,
    print,
  );
  if (shown === 0 && !flags.json) out('no audit entries match');
}
