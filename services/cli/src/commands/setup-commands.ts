import { WalauditError, type WalauditConfig } from '@walaudit/core';
import { runSetup, runTeardown } from '@walaudit/pg';

function requireSource(config: WalauditConfig): string {
  if (!config.source.url) throw new WalauditError('CONFIG_INVALID', 'no database given: pass --source postgres://... or set DATABASE_URL');
  return config.source.url;
}

export async function setupCommand(config: WalauditConfig, flags: { dryRun?: boolean }, out: (line: string) => void): Promise<void> {
  const steps = await runSetup(requireSource(config), {
    slot: config.source.slot,
    publication: config.source.publication,
    tables: config.source.tables,
    dryRun: flags.dryRun ?? false,
    log: out,
  });
  if (steps.length === 0) out('nothing to do: the database is already set up for walaudit');
  else if (flags.dryRun) out(`dry run: ${steps.length} step(s) above would run; nothing was changed`);
  else out(`setup done: ${steps.length} change(s) made`);
}

export async function teardownCommand(config: WalauditConfig, out: (line: string) => void): Promise<void> {
  await runTeardown(requireSource(config), { slot: config.source.slot, publication: config.source.publication, log: out });
}
