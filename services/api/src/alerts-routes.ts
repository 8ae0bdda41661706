import type { IncomingMessage } from 'node:http';
import { WalauditError, type Alert, type AlertQuery } from '@walaudit/core';

/** What the API needs of the alerter (services/alerter): listing and acknowledging. */
export interface AlertsApi {
  list(query: AlertQuery): Promise<Alert[]>;
  acknowledge(request: { ids: string[]; by: string; note?: string }): Promise<{ acknowledged: Alert[]; alreadyAcknowledged: string[] }>;
}

/** `GET /alerts?open=1&limit=N`: newest raised first. */
export function parseAlertQuery(params: URLSearchParams): AlertQuery {
  const limit = Number(params.get('limit') ?? 50);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new WalauditError('CONFIG_INVALID', '"limit" must be an integer from 1 to 100000');
  const open = params.get('open');
  return { limit, open: open === '1' || open === 'true' };
}

/** `POST /alerts/ack` with `{"ids": [...], "by": "name", "note": "..."}`. */
export async function readAckRequest(request: IncomingMessage): Promise<{ ids: string[]; by: string; note?: string }> {
  let text = '';
  for await (const chunk of request) {
    text += (chunk as Buffer).toString('utf8');
    if (text.length > 1_000_000) throw new WalauditError('CONFIG_INVALID', 'acknowledgement request too large');
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new WalauditError('CONFIG_INVALID', 'the body must be JSON: {"ids": ["..."], "by": "name", "note": "..."}');
  }
  const { ids, by, note } = (body ?? {}) as { ids?: unknown; by?: unknown; note?: unknown };
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === 'string' && id !== '')) throw new WalauditError('CONFIG_INVALID', '"ids" must be a non-empty list of alert ids');
  if (typeof by !== 'string' || by.trim() === '') throw new WalauditError('CONFIG_INVALID', '"by" must name who acknowledges');
  if (note !== undefined && typeof note !== 'string') throw new WalauditError('CONFIG_INVALID', '"note" must be text');
  return { ids: ids as string[], by, note: note as string | undefined };
}
