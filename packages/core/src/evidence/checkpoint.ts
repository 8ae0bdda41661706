import { WalauditError } from '../errors.js';
import { signNote, verifyNote, type NoteSigner, type NoteVerifier } from './signed-note.js';

/**
 * A signed checkpoint of one chain (c2sp.org/tlog-checkpoint): the size and RFC 6962 root of the
 * Merkle tree whose leaves are the chain's entry hashes, in chain order. schemas/checkpoints.md
 * documents every line.
 *
 *   <key name>/p<partition>/r<retention days>      origin
 *   <tree size>
 *   <base64 root>
 *   first <id of leaf 0> <its commit time>         walaudit's extension lines (absent when size is 0)
 *   head <id of the last leaf> <its hash> <its commit time>
 *   time <when the checkpoint was signed>
 *   final                                          only on the checkpoint signed as walaudit stopped
 */

/** A chain: `(chain_partition, retention_days)`. */
export interface ChainName {
  partition: number;
  retentionDays: number;
}

/** An entry a checkpoint names. */
export interface CheckpointEntry {
  id: string;
  /** Its transaction's commit time (RFC 3339), what retention measures. */
  committedAt: string;
}

export interface CheckpointHead extends CheckpointEntry {
  /** The entry's chain hash, 64 hex digits. */
  hash: string;
}

export interface Checkpoint {
  origin: string;
  chain: ChainName;
  size: number;
  root: Buffer;
  /** The entry that is leaf 0 (the chain's first entry when checkpointing began). */
  first: CheckpointEntry | null;
  head: CheckpointHead | null;
  /** When it was signed (RFC 3339, UTC). */
  time: string;
  /** Signed as walaudit stopped: no entry may follow it until the next start signs a checkpoint. */
  final: boolean;
}

const bad = (message: string) => new WalauditError('CHECKPOINT_INVALID', message);

export function checkpointOrigin(keyName: string, chain: ChainName): string {
  return `${keyName}/p${chain.partition}/r${chain.retentionDays}`;
}

/** The chain an origin names, and the key name before it. */
export function parseCheckpointOrigin(origin: string): { keyName: string; chain: ChainName } {
  const match = /^(\S+)\/p(\d+)\/r(\d+)$/.exec(origin);
  if (!match) throw bad(`origin "${origin}" is not <name>/p<partition>/r<retention days>`);
  return { keyName: match[1]!, chain: { partition: Number(match[2]), retentionDays: Number(match[3]) } };
}

export const chainLabel = ({ partition, retentionDays }: ChainName) => `p${partition}/r${retentionDays}`;

/** The note text of a checkpoint (ends in a newline). */
export function encodeCheckpointText(checkpoint: Omit<Checkpoint, 'chain'>): string {
  const lines = [checkpoint.origin, String(checkpoint.size), checkpoint.root.toString('base64')];
  if (checkpoint.size > 0) {
    if (!checkpoint.first || !checkpoint.head) throw new RangeError('a checkpoint of a non-empty tree names its first and last entry');
    lines.push(`first ${checkpoint.first.id} ${checkpoint.first.committedAt}`, `head ${checkpoint.head.id} ${checkpoint.head.hash} ${checkpoint.head.committedAt}`);
  }
  lines.push(`time ${checkpoint.time}`);
  if (checkpoint.final) lines.push('final');
  return `${lines.join('\n')}\n`;
}

/** Reads a checkpoint's note text (already verified, see verifyCheckpoint). */
export function parseCheckpointText(text: string): Checkpoint {
  const lines = text.replace(/\n$/, '').split('\n');
  const [origin, sizeText, rootText, ...extensions] = lines;
  if (!origin || !sizeText || !rootText) throw bad('a checkpoint has at least an origin, a size and a root line');
  const { chain } = parseCheckpointOrigin(origin);
  if (!/^(0|[1-9]\d*)$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) throw bad(`tree size "${sizeText}" is not a decimal number`);
  const root = Buffer.from(rootText, 'base64');
  if (root.length !== 32 || root.toString('base64') !== rootText) throw bad(`root "${rootText}" is not 32 bytes of base64`);
  const checkpoint: Checkpoint = { origin, chain, size: Number(sizeText), root, first: null, head: null, time: '', final: false };
  for (const line of extensions) {
    const [key, ...values] = line.split(' ');
    if (key === 'first' && values.length === 2) checkpoint.first = { id: values[0]!, committedAt: values[1]! };
    else if (key === 'head' && values.length === 3 && /^[0-9a-f]{64}$/.test(values[1]!)) checkpoint.head = { id: values[0]!, hash: values[1]!, committedAt: values[2]! };
    else if (key === 'time' && values.length === 1) checkpoint.time = values[0]!;
    else if (key === 'final' && values.length === 0) checkpoint.final = true;
    // Other extension lines are opaque by the format: a newer walaudit may add some.
  }
  if (!checkpoint.time) throw bad(`checkpoint of ${origin} has no time line`);
  if (checkpoint.size > 0 && (!checkpoint.first || !checkpoint.head)) throw bad(`checkpoint of ${origin} at size ${checkpoint.size} lacks its first or head line`);
  return checkpoint;
}

/** The signed note of a checkpoint. */
export function signCheckpoint(checkpoint: Omit<Checkpoint, 'chain'>, signer: NoteSigner): string {
  return signNote(encodeCheckpointText(checkpoint), [signer]);
}

/** Verifies a signed checkpoint against the trusted keys (several: old keys stay trusted after a rotation) and reads it. */
export function verifyCheckpoint(note: string, verifiers: readonly NoteVerifier[]): Checkpoint & { signedBy: string[] } {
  const { text, signedBy } = verifyNote(note, verifiers);
  return { ...parseCheckpointText(text), signedBy: signedBy.map((key) => key.text) };
}
