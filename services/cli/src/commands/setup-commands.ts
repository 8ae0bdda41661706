import { describeError, WalauditError, type AuditEntry, type WalauditConfig } from '@walaudit/core';
import { runSetupWithResult, runTeardown } from '@walaudit/pg';
import { openExistingStore } from '../pipelines/open-store.js';
import { askRunningInstance } from '../running-instance.js';

function requireSource(config: WalauditConfig): string {
  if (!config.source.url) throw new WalauditError('CONFIG_INVALID', 'no database given: pass --source postgres://... or set DATABASE_URL');
  return config.source.url;
}

export interface SetupFlags {
  dryRun?: boolean;
  recreateLostSlot?: boolean;
}

export async function setupCommand(config: WalauditConfig, flags: SetupFlags, out: (line: string) => void): Promise<void> {
  const url = requireSource(config);
  const lastAuditedAt = flags.recreateLostSlot && !flags.dryRun ? await lastStoredCommitTime(config, out) : null;
  const { steps } = await runSetupWithResult(url, {
    slot: config.source.slot,
    publication: config.source.publication,
    tables: config.source.tables,
    dryRun: flags.dryRun ?? false,
    log: out,
    recreateLostSlot: flags.recreateLostSlot ?? false,
    failoverSlot: config.source.failoverSlot,
    lastAuditedAt,
  });
  if (steps.length === 0) out('nothing to do: the database is already set up for walaudit');
  else if (flags.dryRun) out(`dry run: ${steps.length} step(s) above would run; nothing was changed`);
  else out(`setup done: ${steps.length} change(s) made`);
}

/**
 * Where the audit trail stops before a gap: the newest stored entry's commit time, from a running
 * walaudit or the store. Only for the gap entry's text, so a store that cannot be read is no reason
 * to refuse the recreation (the LSN range is recorded either way).
 */
async function lastStoredCommitTime(config: WalauditConfig, out: (line: string) => void): Promise<string | null> {
  try {
    const remote = await askRunningInstance<{ entries: AuditEntry[] }>(config, '/api/entries?limit=1');
    if (remote) return remote.entries[0]?.tx.commitTime ?? null;
    const stores = await openExistingStore(config);
    try {
      const [newest] = (await stores.queries.searchEntries({ filter: {}, limit: 1 })).entries;
      return newest?.tx.commitTime ?? null;
    } finally {
      await stores.close();
    }
  } catch (error) {
    out(`note: the last stored entry could not be read, so the gap entry gives only its LSN range: ${describeError(error)}`);
    return null;
  }
}

export async function teardownCommand(config: WalauditConfig, flags: { resetReplicaIdentity?: boolean }, out: (line: string) => void): Promise<void> {
  await runTeardown(requireSource(config), { slot: config.source.slot, publication: config.source.publication, log: out, resetReplicaIdentity: flags.resetReplicaIdentity ?? false });
}
