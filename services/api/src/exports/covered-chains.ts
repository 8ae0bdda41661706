import { comparePositions, positionOf, positionOfEntryId, verifyAuditLog, type AuditEntry, type AuditStore, type LogPositionKey, type StoredChainLink, type VerifyReport } from '@walaudit/core';

/** What the report says about the chains its entries belong to. */
export interface CoveredChainsCheck {
  report: VerifyReport;
  /** Chains (partition, retention) the exported entries belong to. */
  chains: number;
  /** The oldest exported entry: where the check started. */
  fromId: string | null;
  /** Exported entries the chains' walk did not meet (retention removed them since, or the check stopped at a break first). */
  unseen: number;
}

const chainOf = (link: { partition?: number; chain: number }) => `${link.partition ?? 0}/${link.chain}`;

/**
 * Recomputes the hash chains the given entries belong to over the stretch that holds them: from
 * the oldest exported entry to the entry after the newest one of each chain. Every entry of the
 * stretch is checked (its hash, its link to the one before), not only the exported ones, and the
 * link after the newest shows it was not rewritten since; so an edit of any exported entry is
 * found, as a whole-log verify would find it, at the cost of the stretch alone. What lies before
 * the stretch is `walaudit verify`'s to check. The other chains are skipped.
 */
export async function verifyCoveredChains(store: Pick<AuditStore, 'readChain'>, entries: readonly AuditEntry[]): Promise<CoveredChainsCheck> {
  const newest = new Map<string, LogPositionKey>();
  let oldest: { position: LogPositionKey; id: string } | null = null;
  for (const entry of entries) {
    const chain = chainOf({ partition: entry.partition, chain: entry.retentionDays });
    const position = positionOf(entry.tx);
    const known = newest.get(chain);
    if (!known || comparePositions(position, known) > 0) newest.set(chain, position);
    if (!oldest || comparePositions(position, oldest.position) < 0) oldest = { position, id: entry.id };
  }
  const pending = new Set(entries.map((entry) => entry.id));
  // Chains still waiting for the entry after their newest exported one.
  const open = new Set(newest.keys());
  async function* stretch(): AsyncGenerator<StoredChainLink> {
    if (!oldest) return;
    for await (const link of store.readChain(oldest.position)) {
      const chain = chainOf(link);
      if (!open.has(chain)) continue;
      pending.delete(link.id);
      yield link;
      if (comparePositions(positionOfEntryId(link.id), newest.get(chain)!) > 0) {
        open.delete(chain);
        if (open.size === 0) return;
      }
    }
  }
  const report = await verifyAuditLog({ readChain: stretch });
  return { report, chains: newest.size, fromId: oldest?.id ?? null, unseen: pending.size };
}

/** The verification as one sentence for the report. */
export function verificationInWords({ report, chains, fromId, unseen }: CoveredChainsCheck): string {
  if (chains === 0) return 'No entry to verify.';
  const which = `${chains} hash chain${chains === 1 ? '' : 's'} holding the entries of this report`;
  if (!report.ok && report.problem) {
    const { problem } = report;
    return `BROKEN: ${which} failed verification at entry ${problem.id} (${problem.kind}: ${problem.detail}); ${report.entriesChecked} entries before it verified. Run walaudit verify.`;
  }
  const missing = unseen > 0 ? ` ${unseen === 1 ? '1 entry of this report was' : `${unseen} entries of this report were`} not found in them (removed by retention since?).` : '';
  return `${unseen > 0 ? 'INCOMPLETE' : 'Intact'}: ${which} verified from its oldest entry ${fromId} to the entry after its newest (or the end of the log), ${report.entriesChecked} entries checked, every hash and link holds.${missing}`;
}
