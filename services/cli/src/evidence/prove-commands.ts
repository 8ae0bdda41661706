import { readFileSync } from 'node:fs';
import {
  chainKeyOf,
  chainLabel,
  consistencyRanges,
  inclusionRanges,
  isWalauditError,
  parseCheckpointText,
  parseEventId,
  parseNote,
  RangeHasher,
  verifyConsistencyProof,
  verifyEntryProof,
  WalauditError,
  entryLeaf,
  type AuditStore,
  type ChainName,
  type Checkpoint,
  type ConsistencyProof,
  type EntryProof,
  type StoredChainLink,
  type WalauditConfig,
} from '@walaudit/core';
import { withExistingStore } from '../pipelines/open-store.js';
import { readCheckpointRecords } from './checkpoint-file.js';
import { loadVerifierKeys } from './signing-key.js';

interface Published {
  checkpoint: Checkpoint;
  note: string;
}

/** Every checkpoint of one chain in the file, oldest first (unverified: the proof's reader verifies). */
async function checkpointsOf(file: string, chain: ChainName): Promise<Published[]> {
  const found: Published[] = [];
  for await (const { record } of readCheckpointRecords(file)) {
    const checkpoint = parseCheckpointText(parseNote(record.note).text);
    if (chainKeyOf(checkpoint.chain) === chainKeyOf(chain)) found.push({ checkpoint, note: record.note });
  }
  return found;
}

const chainOfLink = (link: StoredChainLink): ChainName => ({ partition: link.partition ?? 0, retentionDays: link.chain });

/** The chain's entries from leaf 0 of `checkpoint` on, exact replayed copies once. */
async function* leavesFrom(store: AuditStore, checkpoint: Checkpoint): AsyncGenerator<StoredChainLink> {
  const first = checkpoint.first!;
  const key = chainKeyOf(checkpoint.chain);
  let last: StoredChainLink | null = null;
  for await (const link of store.readChain(parseEventId(first.id) ?? undefined)) {
    if (chainKeyOf(chainOfLink(link)) !== key) continue;
    if (!last && link.id !== first.id) {
      throw new WalauditError('PROOF_INVALID', `chain ${chainLabel(checkpoint.chain)}: entry ${first.id}, the first of its checkpointed tree, is no longer stored (expired or removed): no proof can be built from this store`);
    }
    if (last && last.id === link.id && last.hash === link.hash) continue;
    last = link;
    yield link;
  }
}

/** Roots of the ranges over the first `size` leaves. */
async function rangeHashes(store: AuditStore, checkpoint: Checkpoint, ranges: ReturnType<typeof inclusionRanges>): Promise<string[]> {
  const hasher = new RangeHasher(ranges);
  if (ranges.length > 0) {
    for await (const link of leavesFrom(store, checkpoint)) {
      hasher.push(entryLeaf(link.hash));
      if (hasher.leavesSeen >= checkpoint.size) break;
    }
  }
  if (hasher.leavesSeen < Math.max(...ranges.map((range) => range.end), 0)) {
    throw new WalauditError('PROOF_INVALID', `chain ${chainLabel(checkpoint.chain)}: the store holds ${hasher.leavesSeen} of the ${checkpoint.size} entries its checkpoint covers (walaudit verify --checkpoints names what is missing)`);
  }
  return hasher.result().map((hash) => hash.toString('base64'));
}

/** `walaudit prove ENTRY_ID`: the entry, its inclusion proof and the newest signed checkpoint of its chain, as JSON. */
export async function proveCommand(config: WalauditConfig, entryId: string, flags: { checkpoints?: string }, out: (line: string) => void): Promise<number> {
  const file = flags.checkpoints ?? config.checkpoints.file;
  const position = parseEventId(entryId);
  if (!position) throw new WalauditError('CONFIG_INVALID', `"${entryId}" is not an entry id (<16 hex digits>-<seq>, as walaudit log prints it)`);
  const proof = await withExistingStore(config, async (store): Promise<EntryProof> => {
    let entry: StoredChainLink | null = null;
    for await (const link of store.readChain(position)) {
      if (link.id === entryId) entry = link;
      break;
    }
    if (!entry) throw new WalauditError('ENTRY_NOT_FOUND', `entry ${entryId} is not in the audit log`);
    const chain = chainOfLink(entry);
    const newest = (await checkpointsOf(file, chain)).at(-1);
    const head = newest?.checkpoint.head ? parseEventId(newest.checkpoint.head.id) : null;
    if (!newest || !head || head.lsn < position.lsn || (head.lsn === position.lsn && head.seq < position.seq)) {
      throw new WalauditError('PROOF_INVALID', `no checkpoint in ${file} covers entry ${entryId} (chain ${chainLabel(chain)}) yet: wait for the next one (checkpoints.intervalMs) and try again`);
    }
    let index = -1;
    let seen = 0;
    for await (const link of leavesFrom(store, newest.checkpoint)) {
      if (link.id === entryId) {
        index = seen;
        break;
      }
      seen++;
    }
    if (index < 0) throw new WalauditError('PROOF_INVALID', `entry ${entryId} is not in the tree of chain ${chainLabel(chain)} that the checkpoint covers`);
    const path = await rangeHashes(store, newest.checkpoint, inclusionRanges(index, newest.checkpoint.size));
    return { format: 'walaudit-proof/1', entry: { id: entry.id, prevHash: entry.prevHash, hash: entry.hash, event: entry.body }, index, proof: path, checkpoint: newest.note };
  });
  out(JSON.stringify(proof, null, 2));
  return 0;
}

/** `walaudit prove-consistency --chain p0/r90`: an older checkpoint's tree is the start of the newest one's. */
export async function proveConsistencyCommand(config: WalauditConfig, flags: { chain: string; from?: string; checkpoints?: string }, out: (line: string) => void): Promise<number> {
  const file = flags.checkpoints ?? config.checkpoints.file;
  const match = /^p(\d+)\/r(\d+)$/.exec(flags.chain);
  if (!match) throw new WalauditError('CONFIG_INVALID', `--chain ${flags.chain}: a chain is p<partition>/r<retention days>, e.g. p0/r90 (walaudit verify --checkpoints lists them)`);
  const chain = { partition: Number(match[1]), retentionDays: Number(match[2]) };
  const all = await checkpointsOf(file, chain);
  const newer = all.at(-1);
  const older = flags.from === undefined ? all[0] : all.find((item) => item.checkpoint.size === Number(flags.from));
  if (!newer || !older) throw new WalauditError('PROOF_INVALID', `${file} holds no checkpoint of chain ${flags.chain}${flags.from === undefined ? '' : ` at size ${flags.from}`}`);
  const proof = await withExistingStore(config, async (store): Promise<ConsistencyProof> => ({
    format: 'walaudit-consistency/1',
    old: older.note,
    new: newer.note,
    proof: await rangeHashes(store, newer.checkpoint, consistencyRanges(older.checkpoint.size, newer.checkpoint.size)),
  }));
  out(JSON.stringify(proof, null, 2));
  return 0;
}

/** `walaudit verify-proof FILE --key PUB`: offline, no store. Exit 1 when the proof fails. */
export function verifyProofCommand(file: string, flags: { key?: string[] }, out: (line: string) => void): number {
  const verifiers = loadVerifierKeys(flags.key ?? []);
  let proof: EntryProof | ConsistencyProof;
  try {
    proof = JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8')) as EntryProof | ConsistencyProof;
  } catch (error) {
    throw new WalauditError('PROOF_INVALID', `${file} is not a walaudit proof (JSON): ${(error as Error).message}`, { cause: error });
  }
  try {
    if (proof.format === 'walaudit-proof/1') {
      const { checkpoint, signedBy } = verifyEntryProof(proof, verifiers);
      out(`proof verified: entry ${proof.entry.id} is entry ${proof.index} of the ${checkpoint.size} of chain ${chainLabel(checkpoint.chain)} signed at ${checkpoint.time} by ${signedBy.join(', ')}`);
    } else if (proof.format === 'walaudit-consistency/1') {
      const checked = verifyConsistencyProof(proof, verifiers);
      out(`proof verified: chain ${chainLabel(checked.new.chain)} at ${checked.new.size} entries (${checked.new.time}) extends its ${checked.old.size} entries of ${checked.old.time} unchanged`);
    } else throw new WalauditError('PROOF_INVALID', `${file}: unknown proof format ${JSON.stringify((proof as { format?: unknown }).format)}`);
  } catch (error) {
    if (isWalauditError(error) && ['PROOF_INVALID', 'CHECKPOINT_FORGED', 'CHECKPOINT_INVALID'].includes(error.code)) {
      out(`proof FAILED: ${error.message}`);
      return 1;
    }
    throw error;
  }
  return 0;
}
