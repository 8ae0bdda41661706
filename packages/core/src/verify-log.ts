import type { AuditStore } from './audit-store.types.js';
import { ChainVerifier, type ChainProblem } from './hash-chain.js';

export interface ChainSummary {
  /** Partition of the Kafka changes topic the chain belongs to (distributed mode); absent: standalone's one stream (0). */
  partition?: number;
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
  problem: (ChainProblem & { chain: number; partition?: number }) | null;
}

/** One verifier per (partition, retention) chain; the key keeps standalone's chains as before. */
interface ChainState {
  partition: number;
  chain: number;
  verifier: ChainVerifier;
}

const chainKey = (partition: number, chain: number) => partition * 100_000 + chain;

/**
 * Recomputes every hash chain over the whole log in one ordered pass, holding one entry and one
 * verifier per chain; stops at the first problem. A chain is named by its partition (distributed
 * mode; 0 in standalone) and its retention.
 */
export async function verifyAuditLog(store: Pick<AuditStore, 'readChain'>, onProgress?: (checked: number) => void): Promise<VerifyReport> {
  const chains = new Map<number, ChainState>();
  let index = 0;
  let checked = 0;
  // Standalone's one stream is partition 0 and is not named; once another partition shows the log
  // is distributed, partition 0's chains are named too ("from partition 0", not unnamed).
  const named = (partition: number) => partition !== 0 || [...chains.values()].some((state) => state.partition !== 0);
  const summary = (): ChainSummary[] =>
    [...chains.values()]
      .sort((a, b) => a.partition - b.partition || a.chain - b.chain)
      .map(({ partition, chain, verifier }) => ({
        ...(named(partition) ? { partition } : {}),
        chain,
        entries: verifier.entriesChecked,
        headHash: verifier.headHash,
      }));
  for await (const link of store.readChain()) {
    const partition = link.partition ?? 0;
    const key = chainKey(partition, link.chain);
    let state = chains.get(key);
    if (!state) chains.set(key, (state = { partition, chain: link.chain, verifier: new ChainVerifier() }));
    const { verifier } = state;
    const before = verifier.entriesChecked;
    const problem = verifier.push(link);
    if (problem) {
      return { ok: false, entriesChecked: checked, chains: summary(), problem: { ...problem, index, chain: link.chain, ...(named(partition) ? { partition } : {}) } };
    }
    index++;
    if (verifier.entriesChecked > before) {
      checked++;
      if (onProgress && checked % 100_000 === 0) onProgress(checked);
    }
  }
  return { ok: true, entriesChecked: checked, chains: summary(), problem: null };
}
