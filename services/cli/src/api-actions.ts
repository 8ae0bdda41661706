import type { ApiAction } from '@walaudit/api';
import { connectClient, recordAuditAction, withAuditContext } from '@walaudit/pg';

/**
 * Actions taken through the API (token changes, restores) go into the audit trail the way
 * acknowledgements do: a `walaudit.action` message in the audited database's WAL, under the
 * principal's name, so they are hash-chained with everything else. Undefined without a database.
 */
export function apiActionRecorder(sourceUrl: string | undefined): ((action: ApiAction) => Promise<void>) | undefined {
  if (!sourceUrl) return undefined;
  return async (action) => {
    const client = await connectClient(sourceUrl, 'walaudit api');
    try {
      await withAuditContext(client, { user: action.by, reason: `${action.name} through the API (${action.role})` }, (tx) => recordAuditAction(tx, action));
    } finally {
      await client.end().catch(() => undefined);
    }
  };
}
