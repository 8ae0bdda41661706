import { CHANGE_OPS, WalauditError, type LogQuery } from '@walaudit/core';

export interface ParameterizedQuery {
  query: string;
  query_params: Record<string, string | number>;
}

/**
 * The SQL of queryLog, newest first. Values travel as query parameters, never spliced into the
 * SQL; only the validated limit is inlined. `auditLog` is the quoted table name.
 */
export function logQuerySql(auditLog: string, log: LogQuery): ParameterizedQuery {
  const conditions: string[] = [];
  const params: Record<string, string | number> = {};
  if (log.table !== undefined && log.table !== '') {
    // `schema.table`, or a bare name in any schema: one comparison covers both spellings.
    conditions.push(`(concat(schema_name, '.', table_name) = {table:String} OR table_name = {table:String})`);
    params.table = log.table;
  }
  if (log.op !== undefined) {
    if (!CHANGE_OPS.includes(log.op)) throw invalid(`op "${log.op}" is not one of ${CHANGE_OPS.join(', ')}`);
    conditions.push('op = {op:String}');
    params.op = log.op;
  }
  if (log.since !== undefined && log.since !== '') {
    if (Number.isNaN(Date.parse(log.since))) throw invalid(`since "${log.since}" is not an ISO 8601 time`);
    conditions.push(`commit_time >= parseDateTime64BestEffort({since:String}, 6, 'UTC')`);
    params.since = log.since;
  }
  if (log.xid !== undefined) {
    if (!Number.isSafeInteger(log.xid) || log.xid < 0) throw invalid(`xid ${log.xid} is not a transaction id`);
    conditions.push('xid = {xid:UInt64}');
    params.xid = String(log.xid);
  }
  if (!Number.isSafeInteger(log.limit) || log.limit < 0) throw invalid(`limit ${log.limit} is not a count`);
  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  // LIMIT 1 BY hides a replayed copy that parts have not merged yet (cheaper than FINAL here).
  const query = `SELECT id, event, prev_hash, hash, retention_days, critical, chain_partition
    FROM ${auditLog} ${where}
    ORDER BY lsn DESC, seq DESC
    LIMIT 1 BY lsn, seq
    LIMIT ${log.limit}`;
  return { query, query_params: params };
}

function invalid(message: string): WalauditError {
  return new WalauditError('STORE_QUERY_FAILED', `cannot query the audit log: ${message}`);
}
