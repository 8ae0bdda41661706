import type { AuditStore } from './audit-store.types.js';
import { ChainVerifier, type ChainProblem } from './hash-chain.js';

export interface VerifyReport {
  ok: boolean;
  entriesChecked: number;
  headHash: string | null;
  problem: ChainProblem | null;
}

/** Recomputes the hash chain over the whole log and stops at the first problem. */
export async function verifyAuditLog(store: Pick<AuditStore, 'readChain'>, onProgress?: (checked: number) => void): Promise<VerifyReport> {
  const verifier = new ChainVerifier();
  for await (const link of store.readChain()) {
    const problem = verifier.push(link);
    if (problem) return { ok: false, entriesChecked: verifier.entriesChecked, headHash: verifier.headHash, problem };
    if (onProgress && verifier.entriesChecked % 100_000 === 0) onProgress(verifier.entriesChecked);
  }
  return { ok: true, entriesChecked: verifier.entriesChecked, headHash: verifier.headHash, problem: null };
}
