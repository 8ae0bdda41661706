import { WalauditError, checkEntryFilter, checkLimit, checkStatsRequest, type ActorDeletions, type StatsBucket, type StatsGroup, type StatsPoint, type StatsRequest } from '@walaudit/core';
import type { ClickHouseStore } from './clickhouse-store.js';
import { filterSql, whereClause } from './entry-filter-sql.js';

/** Start of each bucket as a DateTime (UTC); weeks start on Monday. */
const BUCKET_START: Record<StatsBucket, string> = {
  minute: 'toStartOfMinute(commit_time)',
  hour: 'toStartOfHour(commit_time)',
  day: `toDateTime(toStartOfDay(commit_time), 'UTC')`,
  week: `toDateTime(toMonday(commit_time), 'UTC')`,
  month: `toDateTime(toStartOfMonth(commit_time), 'UTC')`,
};

/** Who, as alerts name an actor: the application user, else the database user, else unknown. */
export const ACTOR_NAME = `multiIf(app_user != '', app_user, db_user != '', db_user, 'unknown')`;

const GROUP: Record<StatsGroup, string> = {
  table: `concat(schema_name, '.', table_name)`,
  actor: ACTOR_NAME,
  op: 'op',
};

/*
 * Counts are of stored rows: a replayed copy that parts have not merged yet counts twice until
 * they do (FINAL would count it once at several times the cost over a month of entries). Replays
 * happen only after a crash, and a merge removes their copies within minutes.
 */

export async function entryStats(store: ClickHouseStore, request: StatsRequest): Promise<StatsPoint[]> {
  const { filter } = checkStatsRequest(request);
  const { where, params } = whereClause(filterSql(filter));
  const rows = await store.select<{ bucket: string; grp: string; entries: string }>(
    `SELECT formatDateTime(${BUCKET_START[request.bucket]}, '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS bucket, ${GROUP[request.groupBy]} AS grp, toString(count()) AS entries
       FROM ${store.table('audit_log')} ${where}
      GROUP BY bucket, grp ORDER BY bucket, grp`,
    params,
  );
  return rows.map((row) => ({ bucket: row.bucket, group: row.grp, entries: Number(row.entries) }));
}

export async function topDeleters(store: ClickHouseStore, range: { from: string; to: string }, limit: number): Promise<ActorDeletions[]> {
  checkLimit(limit, 'limit', 1000);
  if (!range.from || !range.to) throw new WalauditError('CONFIG_INVALID', 'filter from: top deleters need both from and to');
  const { where, params } = whereClause(filterSql(checkEntryFilter({ from: range.from, to: range.to, ops: ['delete', 'truncate'] })));
  const rows = await store.select<{ actor: string; deletes: string; truncates: string }>(
    `SELECT ${ACTOR_NAME} AS actor, toString(countIf(op = 'delete')) AS deletes, toString(countIf(op = 'truncate')) AS truncates
       FROM ${store.table('audit_log')} ${where}
      GROUP BY actor ORDER BY countIf(op = 'delete') DESC, countIf(op = 'truncate') DESC, actor LIMIT ${limit}`,
    params,
  );
  return rows.map((row) => ({ actor: row.actor, deletes: Number(row.deletes), truncates: Number(row.truncates) }));
}
