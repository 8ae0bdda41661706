import { verifyAuditLog, type AuditEntry, type AuditStore, type StoredChainLink, type VerifyReport } from '@walaudit/core';

/** What the report says about the chains its entries belong to. */
export interface CoveredChainsCheck {
  report: VerifyReport;
  /** Chains (partition, retention) the exported entries belong to. */
  chains: number;
  /** Exported entries the chains' walk did not meet (retention removed them since, or the check stopped at a break first). */
  unseen: number;
}

const chainOf = (link: { partition?: number; chain: number }) => `${link.partition ?? 0}/${link.chain}`;

/**
 * Recomputes the hash chains the given entries belong to, whole (from their oldest stored entry,
 * as `walaudit verify` does, not only around the exported ones): an entry proves nothing unless
 * what links to it holds too. The other chains are skipped (still read: the log is walked once
 * in order).
 */
export async function verifyCoveredChains(store: Pick<AuditStore, 'readChain'>, entries: readonly AuditEntry[]): Promise<CoveredChainsCheck> {
  const wanted = new Set(entries.map((entry) => chainOf({ partition: entry.partition, chain: entry.retentionDays })));
  const pending = new Set(entries.map((entry) => entry.id));
  async function* covered(): AsyncGenerator<StoredChainLink> {
    for await (const link of store.readChain()) {
      if (!wanted.has(chainOf(link))) continue;
      pending.delete(link.id);
      yield link;
    }
  }
  const report = wanted.size === 0 ? { ok: true, entriesChecked: 0, chains: [], problem: null } : await verifyAuditLog({ readChain: covered });
  return { report, chains: wanted.size, unseen: pending.size };
}

/** The verification as one sentence for the report. */
export function verificationInWords({ report, chains, unseen }: CoveredChainsCheck): string {
  if (chains === 0) return 'No entry to verify.';
  const which = `${chains} hash chain${chains === 1 ? '' : 's'} holding the entries of this report`;
  if (!report.ok && report.problem) {
    const { problem } = report;
    return `BROKEN: ${which} failed verification at entry ${problem.id} (${problem.kind}: ${problem.detail}); ${report.entriesChecked} entries before it verified. Run walaudit verify.`;
  }
  const missing = unseen > 0 ? ` ${unseen === 1 ? '1 entry of this report was' : `${unseen} entries of this report were`} not found in them (removed by retention since?).` : '';
  return `${unseen > 0 ? 'INCOMPLETE' : 'Intact'}: ${which} verified, ${report.entriesChecked} entries checked, every hash and link holds.${missing}`;
}
