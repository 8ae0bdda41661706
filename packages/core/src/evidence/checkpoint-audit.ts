import type { StoredChainLink } from '../hash-chain.js';
import { chainKeyOf } from './chain-trees.js';
import { chainLabel, type ChainName, type Checkpoint } from './checkpoint.js';
import { comparePositionKeys, parseEventId } from './entry-ref.js';
import { entryLeaf, MerkleFrontier } from './merkle.js';

export type CheckpointFindingKind = 'tail-truncated' | 'head-truncated' | 'recomputed' | 'head-missing' | 'appended-after-stop';

export interface CheckpointFinding {
  kind: CheckpointFindingKind;
  message: string;
}

export interface ChainCheckpointReport {
  chain: ChainName;
  /** `p0/r90` */
  label: string;
  /** The newest checkpoint of the chain (null: none covers it yet). */
  checkpoint: { size: number; time: string; headId: string | null } | null;
  /** Entries of the chain in the store. */
  stored: number;
  /** Stored entries after the newest checkpoint's head (not covered yet). */
  afterCheckpoint: number;
  /** Whether the Merkle root was recomputed from the store (false when retention removed leaf 0). */
  rootChecked: boolean;
  findings: CheckpointFinding[];
}

interface ChainAudit {
  chain: ChainName;
  newest: Checkpoint | null;
  /** The oldest checkpoint whose head is still within retention: its head must be stored. */
  retained: Checkpoint | null;
  stored: number;
  firstStored: StoredChainLink | null;
  lastStored: StoredChainLink | null;
  started: boolean;
  frontier: MerkleFrontier;
  rootOk: boolean | null;
  headHash: string | null;
  storedThroughHead: number;
  /** The first entry stored after the newest checkpoint's head. */
  firstAfterHead: string | null;
  retainedSeen: boolean;
  afterHead: number;
}

const DAY_MS = 86_400_000;
/** Commit times and the clock of whoever verifies may differ a little. */
const CLOCK_SLACK_MS = 3_600_000;

const chainOfLink = (link: StoredChainLink): ChainName => ({ partition: link.partition ?? 0, retentionDays: link.chain });

/**
 * Compares the stored chains with the signed checkpoints, in one pass over the log in order,
 * holding O(log n) hashes per chain. Finds what the hash chain alone cannot: the newest entries
 * removed (tail truncation), the oldest removed before retention allows (head truncation), and a
 * chain rewritten with fresh hashes (its root or its signed head hash differs). Edits, removals and
 * insertions in the middle are the chain check's (verifyAuditLog); run both.
 */
export class CheckpointAudit {
  private readonly chains = new Map<string, ChainAudit>();
  private readonly now: number;

  /** `checkpoints`: every verified checkpoint, oldest first (file order). */
  constructor(checkpoints: readonly Checkpoint[], now: Date = new Date()) {
    this.now = now.getTime();
    for (const checkpoint of checkpoints) this.addCheckpoint(checkpoint);
  }

  /** One more verified checkpoint, in file order (oldest first), before the first push: holds two per chain at most. */
  addCheckpoint(checkpoint: Checkpoint): void {
    const audit = this.chainAudit(checkpoint.chain);
    if (!audit.newest || checkpoint.size >= audit.newest.size) audit.newest = checkpoint;
    if (!audit.retained && checkpoint.head && this.withinRetention(checkpoint.head.committedAt, checkpoint.chain.retentionDays)) audit.retained = checkpoint;
  }

  private chainAudit(chain: ChainName): ChainAudit {
    const key = chainKeyOf(chain);
    let audit = this.chains.get(key);
    if (!audit) {
      audit = { chain, newest: null, retained: null, stored: 0, firstStored: null, lastStored: null, started: false, frontier: MerkleFrontier.empty(), rootOk: null, headHash: null, storedThroughHead: 0, firstAfterHead: null, retainedSeen: false, afterHead: 0 };
      this.chains.set(key, audit);
    }
    return audit;
  }

  /** Retention keeps an entry committed at `time` now (0 days: forever). */
  private withinRetention(time: string, retentionDays: number): boolean {
    if (retentionDays === 0) return true;
    const at = Date.parse(time);
    return Number.isFinite(at) && at > this.now - retentionDays * DAY_MS + CLOCK_SLACK_MS;
  }

  /** The next stored entry, in log order `(lsn, seq)`. */
  push(link: StoredChainLink): void {
    const audit = this.chainAudit(chainOfLink(link));
    // An exact replayed copy (same id and hash) is one entry, as for the chain check.
    if (audit.lastStored && audit.lastStored.id === link.id && audit.lastStored.hash === link.hash) return;
    audit.stored++;
    audit.firstStored ??= link;
    audit.lastStored = link;
    const { newest, retained } = audit;
    if (!newest || newest.size === 0) return;
    if (!audit.started && link.id === newest.first!.id) audit.started = true;
    if (audit.started && audit.frontier.size < newest.size) {
      audit.frontier.append(entryLeaf(link.hash));
      if (audit.frontier.size === newest.size) audit.rootOk = audit.frontier.root().equals(newest.root);
    }
    if (link.id === newest.head!.id) {
      audit.headHash = link.hash;
      audit.storedThroughHead = audit.stored;
    } else if (audit.headHash !== null) {
      audit.afterHead++;
      audit.firstAfterHead ??= link.id;
    }
    if (retained && link.id === retained.head!.id) audit.retainedSeen = true;
  }

  /** One report per chain, stored or checkpointed, in chain order. */
  finish(): ChainCheckpointReport[] {
    return [...this.chains.values()]
      .sort((a, b) => a.chain.partition - b.chain.partition || a.chain.retentionDays - b.chain.retentionDays)
      .map((audit) => this.report(audit));
  }

  private report(audit: ChainAudit): ChainCheckpointReport {
    const { newest } = audit;
    const report: ChainCheckpointReport = {
      chain: audit.chain,
      label: chainLabel(audit.chain),
      checkpoint: newest ? { size: newest.size, time: newest.time, headId: newest.head?.id ?? null } : null,
      stored: audit.stored,
      afterCheckpoint: audit.afterHead,
      rootChecked: audit.rootOk !== null,
      findings: [],
    };
    if (!newest || newest.size === 0) return report;
    const head = newest.head!;
    const first = newest.first!;
    const signed = `the checkpoint of ${newest.time} (size ${newest.size})`;
    const add = (kind: CheckpointFindingKind, message: string) => report.findings.push({ kind, message: `chain ${report.label}: ${message}` });

    if (audit.headHash !== null && audit.headHash !== head.hash) {
      add('recomputed', `entry ${head.id} has hash ${audit.headHash} in the store, ${signed} signed ${head.hash}: the chain was rewritten and its hashes recomputed`);
    } else if (audit.rootOk === false) {
      add('recomputed', `the Merkle root of the first ${newest.size} stored entries (from ${first.id}) differs from the root ${signed} signed: entries were rewritten with fresh hashes`);
    }
    if (audit.headHash === null) {
      const last = audit.lastStored;
      const lastPosition = last ? parseEventId(last.id) : null;
      const headPosition = parseEventId(head.id);
      const count = audit.started ? ` (${newest.size - audit.frontier.size} of ${newest.size} entries)` : '';
      if (!last) add('tail-truncated', `no entry is stored, but ${signed} covers ${newest.size} entries up to ${head.id}: all of them are missing`);
      else if (lastPosition && headPosition && comparePositionKeys(lastPosition, headPosition) < 0) {
        add('tail-truncated', `the newest entries were removed${count}: the store ends at ${last.id}, but ${signed} goes up to ${head.id}; missing: the entries after ${last.id} through ${head.id}`);
      } else add('head-missing', `entry ${head.id}, the last one ${signed} covers, is not stored although later entries are`);
    }
    if (newest.final && audit.afterHead > 0 && audit.headHash === head.hash) {
      add('appended-after-stop', `${audit.afterHead} entries from ${audit.firstAfterHead} on were stored after ${signed}, which walaudit signed as it stopped; a walaudit that starts again signs a checkpoint before it appends, so these were not written by walaudit`);
    }
    if (!audit.started && audit.firstStored) {
      const missingCount = audit.headHash !== null ? ` (${newest.size - audit.storedThroughHead} entries)` : '';
      const startsAt = `the chain now starts at ${audit.firstStored.id}`;
      if (this.withinRetention(first.committedAt, audit.chain.retentionDays)) {
        add('head-truncated', `the oldest entries were removed before their retention ran out${missingCount}: ${startsAt}, but ${signed} starts at ${first.id}, committed ${first.committedAt}, within the ${retentionText(audit.chain.retentionDays)}; missing: ${first.id} up to the entry before ${audit.firstStored.id}`);
      } else if (audit.retained && !audit.retainedSeen) {
        const kept = audit.retained.head!;
        add('head-truncated', `entries within the ${retentionText(audit.chain.retentionDays)} were removed: ${startsAt}, but entry ${kept.id} (committed ${kept.committedAt}, covered by the checkpoint of ${audit.retained.time}) is not stored`);
      }
    }
    return report;
  }
}

const retentionText = (days: number) => (days === 0 ? 'retention of this chain (kept forever)' : `${days}-day retention`);
