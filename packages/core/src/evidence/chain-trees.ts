import { checkpointOrigin, chainLabel, type ChainName, type Checkpoint, type CheckpointEntry, type CheckpointHead } from './checkpoint.js';
import { entryLeaf, MerkleFrontier } from './merkle.js';

/** What the tree of a chain needs of each entry appended to it. */
export interface ChainedEntry {
  partition: number;
  retentionDays: number;
  id: string;
  hash: string;
  committedAt: string;
}

/** The state of one chain's tree, as saved beside each checkpoint (schemas/checkpoints.md). */
export interface ChainTreeState {
  chain: ChainName;
  frontier: MerkleFrontier;
  first: CheckpointEntry | null;
  head: CheckpointHead | null;
}

interface ChainTree extends ChainTreeState {
  /** Entries appended since the last checkpoint of this chain. */
  pending: number;
  lastCheckpointAt: number;
}

export const chainKeyOf = ({ partition, retentionDays }: ChainName) => `${partition}/${retentionDays}`;

/**
 * The Merkle trees of every chain while the pipeline appends to them: O(log n) hashes per chain.
 * Decides when a chain is due a checkpoint (an interval, a count of entries) and builds it; the
 * caller signs and publishes it.
 */
export class ChainTrees {
  private readonly trees = new Map<string, ChainTree>();

  constructor(
    private readonly keyName: string,
    private readonly every: { intervalMs: number; entries: number },
    /** A chain first seen now counts its interval from here. */
    private readonly startedAt: number = Date.now(),
  ) {}

  /** Takes a chain's saved state (from its newest checkpoint, with the entries stored after it appended). */
  restore(state: ChainTreeState, now: number): void {
    this.trees.set(chainKeyOf(state.chain), { ...state, frontier: state.frontier.clone(), pending: 0, lastCheckpointAt: now });
  }

  append(entry: ChainedEntry): void {
    const chain = { partition: entry.partition, retentionDays: entry.retentionDays };
    const key = chainKeyOf(chain);
    let tree = this.trees.get(key);
    if (!tree) this.trees.set(key, (tree = { chain, frontier: MerkleFrontier.empty(), first: null, head: null, pending: 0, lastCheckpointAt: this.startedAt }));
    tree.frontier.append(entryLeaf(entry.hash));
    tree.first ??= { id: entry.id, committedAt: entry.committedAt };
    tree.head = { id: entry.id, hash: entry.hash, committedAt: entry.committedAt };
    tree.pending++;
  }

  /** Whether some chain is due now: entries waiting and the interval passed, or enough entries waiting. */
  anyDue(now: number): boolean {
    return [...this.trees.values()].some((tree) => this.isDue(tree, now));
  }

  /**
   * The checkpoints due now, each with the tree state it was built from; marks them published.
   * `every`: each chain, changed or not (at start, so that a `final` checkpoint of the last stop is
   * superseded before anything is appended; and at stop, with `final`).
   */
  takeDue(now: number, { every = false, final = false } = {}): Array<{ checkpoint: Omit<Checkpoint, 'chain'>; state: ChainTreeState }> {
    const due: Array<{ checkpoint: Omit<Checkpoint, 'chain'>; state: ChainTreeState }> = [];
    for (const tree of this.trees.values()) {
      if (!every && !this.isDue(tree, now)) continue;
      tree.pending = 0;
      tree.lastCheckpointAt = now;
      const checkpoint = {
        origin: checkpointOrigin(this.keyName, tree.chain),
        size: tree.frontier.size,
        root: tree.frontier.root(),
        first: tree.first,
        head: tree.head,
        time: new Date(now).toISOString(),
        final,
      };
      due.push({ checkpoint, state: { chain: tree.chain, frontier: tree.frontier.clone(), first: tree.first, head: tree.head } });
    }
    return due;
  }

  private isDue(tree: ChainTree, now: number): boolean {
    if (tree.pending === 0) return false;
    return tree.pending >= this.every.entries || now - tree.lastCheckpointAt >= this.every.intervalMs;
  }

  /** Chain labels and sizes, for logs. */
  describe(): string {
    return [...this.trees.values()].map((tree) => `${chainLabel(tree.chain)}: ${tree.frontier.size}`).join(', ');
  }
}

/** The commit time inside an entry's canonical body: `tx` is its last member, `commitTime` the first of `tx`. */
export function commitTimeOfBody(body: string): string {
  const marker = '"tx":{"commitTime":"';
  const at = body.lastIndexOf(marker);
  if (at < 0) return '';
  const start = at + marker.length;
  return body.slice(start, body.indexOf('"', start));
}
