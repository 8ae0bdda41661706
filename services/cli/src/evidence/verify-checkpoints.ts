import { CheckpointAudit, isWalauditError, verifyAuditLog, verifyCheckpoint, WalauditError, type ChainCheckpointReport, type VerifyReport, type WalauditConfig } from '@walaudit/core';
import { openExistingStore } from '../pipelines/open-store.js';
import { readCheckpointRecords } from './checkpoint-file.js';
import { loadVerifierKeys } from './signing-key.js';

export interface CheckpointVerifyFlags {
  checkpoints: string;
  key?: string[];
  json?: boolean;
}

export interface CheckpointVerifyReport {
  ok: boolean;
  /** Lines of the checkpoint file whose signature verified. */
  checkpointsVerified: number;
  /** Lines whose signature failed (altered or forged), with the reason. */
  forged: Array<{ line: number; detail: string }>;
  /** Lines signed only by keys not given with --key. */
  unknownKey: number;
  chain: VerifyReport;
  chains: ChainCheckpointReport[];
}

/**
 * `walaudit verify --checkpoints FILE --key PUB`: the chain check, then each stored chain against
 * its signed checkpoints. Reads the store itself (stop a `start` on the embedded store first).
 * Exit 1 for any finding, as a broken chain.
 */
export async function verifyCheckpointsCommand(config: WalauditConfig, flags: CheckpointVerifyFlags, out: (line: string) => void): Promise<number> {
  const verifiers = loadVerifierKeys(flags.key ?? []);
  // Two audits, each holding at most two checkpoints per chain: the second is fed only when the
  // chain check stops early at a problem (see below).
  const audit = new CheckpointAudit([]);
  const again = new CheckpointAudit([]);
  const file = { checkpointsVerified: 0, forged: [] as CheckpointVerifyReport['forged'], unknownKey: 0 };
  for await (const { line, record } of readCheckpointRecords(flags.checkpoints)) {
    try {
      const checkpoint = verifyCheckpoint(record.note, verifiers);
      audit.addCheckpoint(checkpoint);
      again.addCheckpoint(checkpoint);
      file.checkpointsVerified++;
    } catch (error) {
      if (isWalauditError(error) && error.code === 'CHECKPOINT_UNKNOWN_KEY') file.unknownKey++;
      else if (isWalauditError(error) && (error.code === 'CHECKPOINT_FORGED' || error.code === 'CHECKPOINT_INVALID')) file.forged.push({ line, detail: error.message });
      else throw error;
    }
  }
  if (file.checkpointsVerified === 0 && file.forged.length === 0) {
    throw new WalauditError(
      file.unknownKey > 0 ? 'CHECKPOINT_UNKNOWN_KEY' : 'CHECKPOINT_INVALID',
      file.unknownKey > 0
        ? `none of the ${file.unknownKey} checkpoints in ${flags.checkpoints} is signed by a key given with --key: pass the verifier key walaudit keys generate printed (several --key after a rotation)`
        : `${flags.checkpoints} holds no checkpoint: check the path (checkpoints.file) and that start ran with a signing key`,
    );
  }
  const stores = await openExistingStore(config);
  let chain: VerifyReport;
  try {
    // One pass feeds both checks; the chain check stops at its first problem, and only then is the
    // log read a second time for the checkpoints.
    chain = await verifyAuditLog({
      async *readChain() {
        for await (const link of stores.audit.readChain()) {
          audit.push(link);
          yield link;
        }
      },
    });
    if (!chain.ok) for await (const link of stores.audit.readChain()) again.push(link);
  } finally {
    await stores.close();
  }
  const chains = (chain.ok ? audit : again).finish();
  const ok = chain.ok && file.forged.length === 0 && chains.every((item) => item.findings.length === 0);
  const report: CheckpointVerifyReport = { ok, ...file, chain, chains };
  if (flags.json) out(JSON.stringify(report));
  else printReport(report, flags.checkpoints, out);
  return report.ok ? 0 : 1;
}

function printReport(report: CheckpointVerifyReport, file: string, out: (line: string) => void): void {
  out(`checkpoints: ${report.checkpointsVerified} verified in ${file}${report.unknownKey ? `, ${report.unknownKey} signed by other keys (not checked)` : ''}`);
  for (const forged of report.forged) out(`  FORGED line ${forged.line}: ${forged.detail}`);
  const { chain } = report;
  if (chain.ok) out(`hash chains intact: ${chain.entriesChecked} entries verified`);
  else out(`hash chain BROKEN at entry ${chain.problem!.id}: ${chain.problem!.kind}: ${chain.problem!.detail}`);
  for (const item of report.chains) {
    if (!item.checkpoint) {
      out(`chain ${item.label}: ${item.stored} entries stored, no checkpoint covers it yet`);
      continue;
    }
    const status = item.findings.length === 0 ? 'matches' : 'DOES NOT MATCH';
    const root = item.rootChecked ? 'root recomputed' : 'root not recomputable (its first entries expired), checked by the signed head hash';
    out(`chain ${item.label}: ${item.stored} entries stored; newest checkpoint ${item.checkpoint.time}, size ${item.checkpoint.size}: ${status} (${root}${item.afterCheckpoint ? `; ${item.afterCheckpoint} entries after it, not covered yet` : ''})`);
    for (const finding of item.findings) out(`  ${finding.kind}: ${finding.message}`);
  }
  out(report.ok ? 'audit log intact and consistent with its signed checkpoints' : 'audit log does NOT match its signed checkpoints');
}
