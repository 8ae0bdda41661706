import { WalauditError, type EntryFilter } from '@walaudit/core';
import { entryFilterQuery, toEntryFilter } from './routes/entry-filter-query.js';

const LISTS = new Set(['table', 'op', 'tag']);

/**
 * The entry filter of URL parameters (those of `GET /api/entries`) as the store's EntryFilter: the
 * same checks and messages for `walaudit log` on the store itself as through a running process.
 * Parameters that are not filters (limit, cursor) are ignored.
 */
export function entryFilterOfParams(params: URLSearchParams): EntryFilter {
  const raw: Record<string, string | string[]> = {};
  for (const key of params.keys()) raw[key] = LISTS.has(key) ? params.getAll(key) : params.get(key)!;
  const parsed = entryFilterQuery.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new WalauditError('CONFIG_INVALID', `${issue.path.join('.') || 'filter'}: ${issue.message}`);
  }
  return toEntryFilter(parsed.data);
}
