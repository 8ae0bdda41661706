import type { AuditStore } from './audit-store.types.js';
import { ChainVerifier, type ChainProblem } from './hash-chain.js';

export interface ChainSummary {
  /** Retention in days shared by the chain's entries (0: kept forever). */
  chain: number;
  entries: number;
  headHash: string | null;
}

export interface VerifyReport {
  ok: boolean;
  entriesChecked: number;
  chains: ChainSummary[];
  /** On a problem, `index` is the entry's position in the whole log, from 0. */
  problem: (ChainProblem & { chain: number }) | null;
}

/**
 * Recomputes every hash chain over the whole log in one ordered pass, holding one entry and one
 * verifier per chain; stops at the first problem.
 */
export async function verifyAuditLog(store: Pick<AuditStore, 'readChain'>, onProgress?: (checked: number) => void): Promise<VerifyReport> {
  const verifiers = new Map<number, ChainVerifier>();
  let index = 0;
  let checked = 0;
  const summary = (): ChainSummary[] =>
    [...verifiers.entries()].sort(([a], [b]) => a - b).map(([chain, verifier]) => ({ chain, entries: verifier.entriesChecked, headHash: verifier.headHash }));
  for await (const link of store.readChain()) {
    let verifier = verifiers.get(link.chain);
    if (!verifier) verifiers.set(link.chain, (verifier = new ChainVerifier()));
    const before = verifier.entriesChecked;
    const problem = verifier.push(link);
    if (problem) return { ok: false, entriesChecked: checked, chains: summary(), problem: { ...problem, index, chain: link.chain } };
    index++;
    if (verifier.entriesChecked > before) {
      checked++;
      if (onProgress && checked % 100_000 === 0) onProgress(checked);
    }
  }
  return { ok: true, entriesChecked: checked, chains: summary(), problem: null };
}
