import { CHANGE_OPS, WalauditError, type ChangeOp, type LogQuery } from '@walaudit/core';

/** The filters of `walaudit log` (and `GET /api/entries`) from URL parameters, for the offline path. */
export function parseLogQuery(params: URLSearchParams): LogQuery {
  const limit = Number(params.get('limit') ?? 50);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new WalauditError('CONFIG_INVALID', '"limit" must be an integer from 1 to 100000');
  const op = params.get('op') ?? undefined;
  if (op !== undefined && !CHANGE_OPS.includes(op as ChangeOp)) throw new WalauditError('CONFIG_INVALID', `"op" must be one of ${CHANGE_OPS.join(', ')}`);
  const since = params.get('since') ?? undefined;
  if (since !== undefined && Number.isNaN(Date.parse(since))) throw new WalauditError('CONFIG_INVALID', `"since" is not a time: ${since}`);
  const xid = params.get('xid');
  return { limit, op: op as ChangeOp | undefined, since: since ? new Date(since).toISOString() : undefined, table: params.get('table') ?? undefined, xid: xid ? Number(xid) : undefined };
}
