import { WalauditError } from '../errors.js';
import type { StoredChainLink } from '../hash-chain.js';
import type { ChainHead } from '../audit-store.types.js';
import type { LogPositionKey } from '../queries/log-cursor.js';
import { chainKeyOf, commitTimeOfBody, type ChainTreeState } from './chain-trees.js';
import { chainLabel, type Checkpoint } from './checkpoint.js';
import { comparePositionKeys, parseEventId } from './entry-ref.js';
import { entryLeaf, MerkleFrontier } from './merkle.js';

/** A chain's last published checkpoint and the tree state saved with it. */
export interface PublishedChain {
  checkpoint: Checkpoint;
  frontier: MerkleFrontier;
}

interface Resuming {
  published: PublishedChain | null;
  state: ChainTreeState;
  /** Whether the checkpoint's head entry was found (always true without a checkpoint). */
  matched: boolean;
  headPosition: LogPositionKey | null;
  lastHash: string | null;
}

const refused = (message: string, file: string) =>
  new WalauditError(
    'CHECKPOINT_MISMATCH',
    `${message}. walaudit does not chain onto a store that lost or rewrote entries: find out who changed it (walaudit verify --checkpoints ${file} --key <verifier key>), restore it from a backup, or, if the store was reset on purpose, move ${file} aside`,
  );

/**
 * Before the pipeline appends: compares each chain's stored entries with the last checkpoint
 * published for it, and rebuilds the chain's tree from there. Reads the store only from the
 * oldest checkpointed head on (or from the start for a chain no checkpoint covers yet).
 */
export class ResumeCheck {
  private readonly chains = new Map<string, Resuming>();

  constructor(
    published: readonly PublishedChain[],
    private readonly heads: readonly ChainHead[],
    private readonly file: string,
  ) {
    for (const item of published) {
      const { checkpoint, frontier } = item;
      if (!frontier.root().equals(checkpoint.root) || frontier.size !== checkpoint.size) {
        throw new WalauditError('CHECKPOINT_INVALID', `${file}: the saved tree of chain ${chainLabel(checkpoint.chain)} does not give its signed root: the file was damaged`);
      }
      this.chains.set(chainKeyOf(checkpoint.chain), {
        published: item,
        state: { chain: checkpoint.chain, frontier: frontier.clone(), first: checkpoint.first, head: checkpoint.head },
        matched: checkpoint.size === 0,
        headPosition: checkpoint.head ? parseEventId(checkpoint.head.id) : null,
        lastHash: checkpoint.head?.hash ?? null,
      });
    }
    for (const head of heads) {
      const chain = { partition: head.partition ?? 0, retentionDays: head.chain };
      const key = chainKeyOf(chain);
      if (!this.chains.has(key)) this.chains.set(key, { published: null, state: { chain, frontier: MerkleFrontier.empty(), first: null, head: null }, matched: true, headPosition: null, lastHash: null });
      this.checkStoredHead(this.chains.get(key)!, head);
    }
    for (const resuming of this.chains.values()) {
      const head = resuming.published?.checkpoint.head;
      const stored = heads.some((candidate) => chainKeyOf({ partition: candidate.partition ?? 0, retentionDays: candidate.chain }) === chainKeyOf(resuming.state.chain));
      if (head && !stored) {
        const checkpoint = resuming.published!.checkpoint;
        throw refused(`chain ${chainLabel(checkpoint.chain)}: the store holds none of its entries, but the last checkpoint (${checkpoint.time}, size ${checkpoint.size}) covers ${checkpoint.first!.id} through ${head.id}: all of them are missing`, file);
      }
    }
  }

  private checkStoredHead(resuming: Resuming, head: ChainHead): void {
    const checkpoint = resuming.published?.checkpoint;
    if (!checkpoint?.head || !resuming.headPosition) return;
    if (comparePositionKeys({ lsn: head.lsn, seq: head.seq }, resuming.headPosition) < 0) {
      throw refused(`chain ${chainLabel(checkpoint.chain)}: its newest stored entry is ${head.id}, but the last checkpoint (${checkpoint.time}, size ${checkpoint.size}) covers up to ${checkpoint.head.id}: the entries after ${head.id} through ${checkpoint.head.id} are missing (tail truncation)`, this.file);
    }
  }

  /** Where reading the store must start: null for the beginning. */
  readFrom(): LogPositionKey | null {
    let from: LogPositionKey | null = null;
    for (const resuming of this.chains.values()) {
      if (!resuming.published || !resuming.headPosition) {
        if (resuming.published?.checkpoint.size === 0 || !resuming.published) {
          // No entry covered yet: this chain's tree starts at its first stored entry.
          if (this.heads.some((head) => chainKeyOf({ partition: head.partition ?? 0, retentionDays: head.chain }) === chainKeyOf(resuming.state.chain))) return null;
        }
        continue;
      }
      if (!from || comparePositionKeys(resuming.headPosition, from) < 0) from = resuming.headPosition;
    }
    return from;
  }

  /** The next stored entry from readFrom() on, in log order. Throws CHECKPOINT_MISMATCH at the first entry that contradicts a checkpoint. */
  push(link: StoredChainLink): void {
    const resuming = this.chains.get(chainKeyOf({ partition: link.partition ?? 0, retentionDays: link.chain }));
    if (!resuming) return;
    const checkpoint = resuming.published?.checkpoint;
    const label = chainLabel(resuming.state.chain);
    if (!resuming.matched) {
      const position = parseEventId(link.id);
      if (position && resuming.headPosition && comparePositionKeys(position, resuming.headPosition) < 0) return;
      if (link.id !== checkpoint!.head!.id) {
        throw refused(`chain ${label}: entry ${checkpoint!.head!.id}, the last one the checkpoint of ${checkpoint!.time} covers, is not stored (the next stored entry is ${link.id})`, this.file);
      }
      if (link.hash !== checkpoint!.head!.hash) {
        throw refused(`chain ${label}: entry ${link.id} has hash ${link.hash} in the store, but the checkpoint of ${checkpoint!.time} signed ${checkpoint!.head!.hash}: the chain was rewritten`, this.file);
      }
      resuming.matched = true;
      return;
    }
    // An exact replayed copy of the previous entry is one entry.
    if (link.hash === resuming.lastHash && link.id === resuming.state.head?.id) return;
    if (checkpoint?.final) {
      throw refused(`chain ${label}: entry ${link.id} was stored after the checkpoint walaudit signed as it stopped (${checkpoint.time}, up to ${checkpoint.head?.id ?? 'no entry'}): walaudit did not write it`, this.file);
    }
    if (resuming.lastHash !== null && link.prevHash !== resuming.lastHash) {
      throw refused(`chain ${label}: entry ${link.id} does not link to the entry before it (${resuming.state.head?.id}): entries were removed or inserted after the last checkpoint`, this.file);
    }
    const committedAt = commitTimeOfBody(link.body);
    resuming.state.frontier.append(entryLeaf(link.hash));
    resuming.state.first ??= { id: link.id, committedAt };
    resuming.state.head = { id: link.id, hash: link.hash, committedAt };
    resuming.lastHash = link.hash;
  }

  /** The trees to continue from, once every entry from readFrom() on was pushed. */
  finish(): ChainTreeState[] {
    for (const resuming of this.chains.values()) {
      if (!resuming.matched) {
        const checkpoint = resuming.published!.checkpoint;
        throw refused(`chain ${chainLabel(resuming.state.chain)}: entry ${checkpoint.head!.id}, the last one the checkpoint of ${checkpoint.time} covers, is not stored: the newest entries were removed`, this.file);
      }
    }
    return [...this.chains.values()].map((resuming) => resuming.state);
  }
}
