import { MAX_PAGE_ENTRIES, WalauditError, type RecordHistory, type RecordVersion, type WalauditConfig } from '@walaudit/core';
import { parseKey } from '@walaudit/api';
import { formatVersion } from '../format-version.js';
import { countFlag } from './log-command.js';
import { readPages } from './page-reader.js';

export interface HistoryFlags {
  table?: string;
  pk?: string;
  limit?: string;
  pageSize?: string;
  json?: boolean;
}

/** `walaudit history --table T --pk JSON`: every version of one row, oldest first. */
export async function historyCommand(config: WalauditConfig, flags: HistoryFlags, out: (line: string) => void): Promise<void> {
  if (!flags.table || !flags.pk) throw new WalauditError('CONFIG_INVALID', 'history needs --table schema.table and --pk \'{"id":"3"}\' (the row\'s primary key as JSON)');
  const { table } = flags;
  const pk = parseKey(flags.pk);
  const limit = flags.limit === undefined ? Number.MAX_SAFE_INTEGER : countFlag(flags.limit, '--limit');
  const pageSize = flags.pageSize === undefined ? 1000 : countFlag(flags.pageSize, '--page-size', MAX_PAGE_ENTRIES);
  const shown = await readPages<RecordVersion, RecordHistory>(
    config,
    {
      path: (pageLimit, cursor) => `/api/history?${new URLSearchParams({ table, pk: flags.pk!, limit: String(pageLimit), ...(cursor === undefined ? {} : { cursor }) }).toString()}`,
      unwrap: (answer) => ({ items: answer.versions, nextCursor: answer.nextCursor }),
      offline: (stores) => async (pageLimit, cursor) => {
        const page = await stores.queries.recordHistory(table, pk, { limit: pageLimit, cursor });
        return { items: page.versions, nextCursor: page.nextCursor };
      },
    },
    limit,
    pageSize,
    flags.json ? (version) => out(JSON.stringify(version)) : (version) => out(formatVersion(version)),
  );
  if (shown === 0 && !flags.json) out(`the audit log holds no version of ${table} ${flags.pk}`);
}
