import { WalauditError } from '../errors.js';
import { chainHash } from '../hash-chain.js';
import { chainLabel, verifyCheckpoint, type Checkpoint } from './checkpoint.js';
import { entryLeaf, verifyConsistency, verifyInclusion } from './merkle.js';
import type { NoteVerifier } from './signed-note.js';

/** `walaudit prove ENTRY_ID`: one entry, its place in a chain's tree, and the signed checkpoint of that tree (schemas/checkpoints.md). */
export interface EntryProof {
  format: 'walaudit-proof/1';
  entry: { id: string; prevHash: string; hash: string; event: string };
  index: number;
  /** Base64 hashes, the leaf's sibling first (RFC 9162 2.1.3.1). */
  proof: string[];
  checkpoint: string;
}

/** `walaudit prove-consistency`: the tree of an older checkpoint is the start of a newer one's (RFC 9162 2.1.4). */
export interface ConsistencyProof {
  format: 'walaudit-consistency/1';
  old: string;
  new: string;
  proof: string[];
}

const invalid = (message: string) => new WalauditError('PROOF_INVALID', message);
const hashes = (list: readonly string[]) => list.map((item) => Buffer.from(item, 'base64'));

/** Checks an entry proof with no store: the signature, the entry's own hash, its inclusion. Throws PROOF_INVALID naming what failed. */
export function verifyEntryProof(proof: EntryProof, verifiers: readonly NoteVerifier[]): { checkpoint: Checkpoint; signedBy: string[] } {
  const checkpoint = verifyCheckpoint(proof.checkpoint, verifiers);
  const { entry } = proof;
  const recomputed = chainHash(entry.prevHash, entry.event);
  if (recomputed !== entry.hash) throw invalid(`entry ${entry.id}: its content hashes to ${recomputed}, the proof says ${entry.hash}: the entry was altered`);
  if (!Number.isSafeInteger(proof.index) || proof.index < 0 || proof.index >= checkpoint.size) {
    throw invalid(`entry ${entry.id}: index ${proof.index} is outside the checkpoint's ${checkpoint.size} entries`);
  }
  if (!verifyInclusion(entryLeaf(entry.hash), proof.index, checkpoint.size, hashes(proof.proof), checkpoint.root)) {
    throw invalid(`entry ${entry.id} is not entry ${proof.index} of the ${checkpoint.size} that chain ${chainLabel(checkpoint.chain)}'s checkpoint of ${checkpoint.time} signed: the inclusion proof does not lead to its root`);
  }
  return { checkpoint, signedBy: checkpoint.signedBy };
}

/** Checks a consistency proof with no store: both signatures, one chain, and the older tree inside the newer. */
export function verifyConsistencyProof(proof: ConsistencyProof, verifiers: readonly NoteVerifier[]): { old: Checkpoint; new: Checkpoint } {
  const older = verifyCheckpoint(proof.old, verifiers);
  const newer = verifyCheckpoint(proof.new, verifiers);
  if (older.origin !== newer.origin) throw invalid(`the checkpoints are of different chains (${older.origin}, ${newer.origin})`);
  if (older.first && newer.first && older.first.id !== newer.first.id) throw invalid(`the checkpoints' trees start at different entries (${older.first.id}, ${newer.first.id})`);
  if (!verifyConsistency(older.size, newer.size, older.root, newer.root, hashes(proof.proof))) {
    throw invalid(`the tree of ${newer.size} entries (${newer.time}) does not extend the tree of ${older.size} (${older.time}) of chain ${chainLabel(older.chain)}: entries covered by the older checkpoint were changed or removed`);
  }
  return { old: older, new: newer };
}
