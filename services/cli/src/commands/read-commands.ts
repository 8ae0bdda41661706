import { formatLsn, verifyAuditLog, WalauditError, type SlotLoss, type PipelineStatus, type VerifyReport, type WalauditConfig } from '@walaudit/core';
import { SlotMonitor, connectionLabel, describeSlotLoss, slotLostError } from '@walaudit/pg';
import { withExistingStore } from '../pipelines/open-store.js';
import { askRunningInstance } from '../running-instance.js';
import { formatBytes } from '../format-bytes.js';

export interface VerifyFlags {
  json?: boolean;
  /** An empty log is what the caller expects (a new installation): exit 0 instead of 2. */
  allowEmpty?: boolean;
}

/** On a terminal, a line that counts the entries verified (every 100,000); nothing in a pipe or a log. */
function verifyProgress(): ((checked: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  return (checked) => process.stderr.write(`\rverifying the audit log… ${checked.toLocaleString('en-US')} entries checked`);
}

/**
 * Exit code 0 when intact, 1 when the chain is broken. An empty log proves nothing: it is an error
 * (2) unless expected, since a wrong data directory or port looks exactly like it.
 */
export async function verifyCommand(config: WalauditConfig, flags: VerifyFlags, out: (line: string) => void): Promise<number> {
  const progress = verifyProgress();
  if (progress) process.stderr.write('verifying the audit log…');
  const report = (await askRunningInstance<VerifyReport>(config, '/api/verify')) ?? (await withExistingStore(config, (store) => verifyAuditLog(store, progress)));
  if (progress) process.stderr.write('\r\x1b[K');
  if (report.ok && report.entriesChecked === 0 && !flags.allowEmpty) {
    throw new WalauditError('LOG_EMPTY', 'the audit log holds no entries, so nothing was verified: check --data-dir, --clickhouse-url or --http-port; pass --allow-empty where an empty log is expected');
  }
  if (flags.json) out(JSON.stringify(report));
  else if (report.ok && report.entriesChecked === 0) out('audit log empty: nothing to verify');
  else if (report.ok) {
    out(`audit log intact: ${report.entriesChecked} entries verified`);
    for (const chain of report.chains) out(`  chain of entries ${chain.partition !== undefined ? `from partition ${chain.partition} ` : ''}kept ${chain.chain === 0 ? 'forever' : `${chain.chain} days`}: ${chain.entries} entries, head hash ${chain.headHash}`);
  }
  else {
    const problem = report.problem!;
    out(`audit log BROKEN at entry ${problem.id} (position ${problem.index} in log order${problem.partition !== undefined ? `, chain of partition ${problem.partition}` : ''}): ${problem.kind}`);
    out(`  ${problem.detail}`);
    out(`  ${report.entriesChecked} entries before it verified`);
  }
  return report.ok ? 0 : 1;
}

export async function statusCommand(config: WalauditConfig, flags: { json?: boolean }, out: (line: string) => void): Promise<void> {
  const running = await askRunningInstance<PipelineStatus>(config, '/api/status');
  if (running) {
    if (flags.json) {
      out(JSON.stringify(running));
      return failIfLost(running.slot, running.slotLost ?? null);
    }
    out(`walaudit ${running.state} since ${running.startedAt}`);
    if (running.slotLost) out(`  SLOT LOST ${running.slot}: ${describeSlotLoss(running.slotLost)}; changes since its confirmed position were never audited`);
    if (running.slotAtRisk && !running.slotLost) out(`  WARNING ${running.slotAtRisk.message}`);
    if (running.unpreparedPartitions?.length) out(`  partitions needing setup: ${running.unpreparedPartitions.join(', ')} (added after \`walaudit setup\`: run it again)`);
    out(`  source   ${running.source}, slot ${running.slot}${running.slotActive ? ' (active)' : ''}`);
    out(`  store    ${running.store}`);
    out(`  position confirmed ${running.confirmedLsn ?? '-'}, server ${running.serverLsn ?? '-'}, lag ${running.lagBytes === null ? '-' : formatBytes(running.lagBytes)}, WAL held ${running.retainedBytes === null ? '-' : formatBytes(running.retainedBytes)}`);
    out(`  events   ${running.eventsTotal} decoded, ${running.entriesStored} stored, ${running.eventsPerSecond}/s`);
    if (running.kafka) {
      const k = running.kafka;
      if (k.services.includes('reader')) out(`  kafka    reader: ${k.published} published to ${k.topic} (${k.brokers.join(',')})`);
      if (k.services.includes('writer')) out(`  kafka    writer in group ${k.group}: partitions ${k.partitions.join(',') || '(none)'}, consumer lag ${k.consumerLag ?? '-'}, ${k.deadLetters} dead letters`);
    }
    out(`  last error ${running.lastError ? `${running.lastError.at} ${running.lastError.code}: ${running.lastError.message}` : 'none'}`);
    if (running.alerts) {
      const windows = running.alerts.windowStore === 'redis' && !running.alerts.windowStoreHealthy ? 'redis DOWN, counting locally' : running.alerts.windowStore;
      out(`  alerts   ${running.alerts.raised} raised since start, windows in ${windows}, channels ${running.alerts.channels.join(', ') || 'none (stored only)'}`);
    }
    return failIfLost(running.slot, running.slotLost ?? null);
  }
  if (!config.source.url) {
    out(`walaudit is not running (nothing on port ${config.http.port}); give --source or DATABASE_URL to see the slot's state`);
    return;
  }
  const monitor = new SlotMonitor(config.source.url, config.source.slot);
  try {
    const slot = await monitor.state();
    // Advisory: a role that may not read the catalog still gets the slot's state.
    const unprepared = await monitor.unpreparedPartitions(config.source.publication).catch(() => undefined);
    const report = { state: 'not running', source: connectionLabel(config.source.url), slot: slot.slot, slotExists: slot.exists, confirmedLsn: slot.confirmedLsn === null ? null : formatLsn(slot.confirmedLsn), serverLsn: formatLsn(slot.serverLsn), lagBytes: slot.lagBytes, retainedBytes: slot.retainedBytes, slotLost: slot.lost, slotAtRisk: slot.atRisk, ...(unprepared ? { unpreparedPartitions: unprepared } : {}) };
    if (flags.json) {
      out(JSON.stringify(report));
      return failIfLost(slot.slot, slot.lost);
    }
    out(`walaudit is not running (nothing on port ${config.http.port})`);
    if (!slot.exists) return out(`  slot ${slot.slot} does not exist on ${report.source}: run \`walaudit setup\``);
    if (slot.lost) {
      out(`  slot ${slot.slot} on ${report.source} is LOST (${describeSlotLoss(slot.lost)}): confirmed ${report.confirmedLsn ?? '-'}, server ${report.serverLsn}; no WAL is held for it and changes since were never audited`);
      return failIfLost(slot.slot, slot.lost);
    }
    out(`  slot ${slot.slot} on ${report.source}${slot.active ? ` is held by pid ${slot.activePid}` : ''}: confirmed ${report.confirmedLsn ?? '-'}, server ${report.serverLsn}, lag ${formatBytes(slot.lagBytes)}, WAL held ${formatBytes(slot.retainedBytes)}`);
    if (slot.atRisk) out(`  WARNING ${slot.atRisk.message}`);
    if (unprepared?.length) out(`  partitions needing setup: ${unprepared.join(', ')} (added after \`walaudit setup\`: run it again)`);
  } finally {
    await monitor.close();
  }
}

/** A lost slot is a failure of the whole installation, not a detail of the report: exit 2 with PG_SLOT_LOST. */
function failIfLost(slot: string, lost: SlotLoss | null): void {
  if (lost) throw slotLostError(slot, lost);
}
