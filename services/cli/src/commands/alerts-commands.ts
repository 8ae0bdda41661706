import type { Alert, WalauditConfig } from '@walaudit/core';
import { createPipelineMetrics } from '@walaudit/api';
import { openExistingStore } from '../pipelines/open-store.js';
import { askRunningInstance } from '../running-instance.js';
import { createConfiguredAlerter } from '../alerts-wiring.js';
import type { Logger } from '../logger.js';

export interface AlertsFlags {
  open?: boolean;
  json?: boolean;
  limit?: string;
}

export interface AckFlags {
  by: string;
  note?: string;
  json?: boolean;
}

interface AckResult {
  acknowledged: Alert[];
  alreadyAcknowledged: string[];
}

/**
 * Runs `work` with an alerter on the store, for when no `walaudit start` runs (chDB allows one
 * process per data directory; a running start is asked over HTTP instead).
 */
async function withOfflineAlerter<T>(config: WalauditConfig, log: Logger, work: (alerter: ReturnType<typeof createConfiguredAlerter>) => Promise<T>): Promise<T> {
  const stores = await openExistingStore(config);
  const alerter = createConfiguredAlerter({ config, alertStore: stores.alerts, registry: createPipelineMetrics().registry, sourceUrl: config.source.url, log });
  try {
    const result = await work(alerter);
    await alerter.idle();
    return result;
  } finally {
    await alerter.close();
    await stores.close();
  }
}

/** `walaudit alerts [--open] [--json] [--limit N]`: newest raised first. */
export async function alertsListCommand(config: WalauditConfig, flags: AlertsFlags, out: (line: string) => void, log: Logger): Promise<void> {
  const limit = flags.limit ?? '50';
  const params = new URLSearchParams({ limit, ...(flags.open ? { open: '1' } : {}) });
  const remote = await askRunningInstance<{ alerts: Alert[] }>(config, `/api/alerts?${params.toString()}`);
  const alerts = remote?.alerts ?? (await withOfflineAlerter(config, log, (alerter) => alerter.list({ open: flags.open, limit: Number(limit) })));
  if (flags.json) {
    for (const alert of alerts) out(JSON.stringify(alert));
    return;
  }
  if (alerts.length === 0) out(flags.open ? 'no open alerts' : 'no alerts');
  for (const alert of alerts) out(formatAlert(alert));
}

/** `walaudit alerts ack ID... --by NAME [--note TEXT]`. */
export async function alertsAckCommand(config: WalauditConfig, ids: string[], flags: AckFlags, out: (line: string) => void, log: Logger): Promise<void> {
  const request = { ids, by: flags.by, note: flags.note };
  const remote = await askRunningInstance<AckResult>(config, '/api/alerts/ack', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
  const result = remote ?? (await withOfflineAlerter(config, log, (alerter) => alerter.acknowledge(request)));
  if (flags.json) return out(JSON.stringify(result));
  for (const alert of result.acknowledged) out(`acknowledged ${alert.id} (${alert.kind}, ${alert.actor.name}) by ${flags.by}; recorded in the audit trail`);
  for (const id of result.alreadyAcknowledged) out(`${id} was already acknowledged`);
}

export function formatAlert(alert: Alert): string {
  const tables = alert.tables.map((table) => `${table.table} ${table.allRows ? 'ALL' : table.rows}`).join(', ');
  const where = [alert.actor.ip, alert.actor.applicationName].filter(Boolean).join(' ');
  const keys = alert.keys.length > 0 ? ` keys ${alert.keys.slice(0, 3).map((key) => Object.entries(key).map(([name, value]) => `${name}=${value}`).join(',')).join(' ')}${alert.keys.length > 3 ? ' ...' : ''}` : '';
  const scope = alert.window ? `${alert.transactions} tx in ${alert.window.minutes} min` : `xid ${alert.xid}${keys}`;
  const state = alert.status === 'acknowledged' ? `acknowledged by ${alert.acknowledgement?.by}${alert.acknowledgement?.note ? ` (${alert.acknowledgement.note})` : ''}` : 'OPEN';
  if (alert.kind === 'integrity') {
    return `${alert.id}  ${alert.raisedAt.replace('T', ' ').slice(0, 19)}  ${alert.kind.padEnd(14)}  chain ${alert.integrity?.chain ?? '?'}: ${alert.integrity?.message ?? '?'}  ${state}`;
  }
  if (alert.kind === 'slot-lost') {
    const loss = alert.slotLoss;
    return `${alert.id}  ${alert.raisedAt.replace('T', ' ').slice(0, 19)}  ${alert.kind.padEnd(14)}  slot ${loss?.slot ?? '?'} on ${loss?.source ?? '?'} (wal_status ${loss?.walStatus ?? '?'}${loss?.invalidationReason ? `, ${loss.invalidationReason}` : ''}): unaudited after ${loss?.confirmedLsn ?? '?'}  ${state}`;
  }
  return `${alert.id}  ${alert.raisedAt.replace('T', ' ').slice(0, 19)}  ${alert.kind.padEnd(14)}  ${alert.actor.name}${where ? ` (${where})` : ''}  ${alert.allRows ? 'ALL rows' : `${alert.rows} rows`}: ${tables}  ${scope}  entries ${alert.firstEntryId}..${alert.lastEntryId}  ${state}`;
}
