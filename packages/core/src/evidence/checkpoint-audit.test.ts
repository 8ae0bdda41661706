import { describe, expect, it } from 'vitest';
import { chainHash, GENESIS_HASH, type StoredChainLink } from '../hash-chain.js';
import { ChainTrees, commitTimeOfBody } from './chain-trees.js';
import { CheckpointAudit } from './checkpoint-audit.js';
import { parseCheckpointText, encodeCheckpointText, type Checkpoint } from './checkpoint.js';

const NOW = Date.parse('2026-12-05T08:00:00Z');
const id = (i: number) => `${(0x1000 + i).toString(16).toUpperCase().padStart(16, '0')}-0`;
const committed = (i: number, daysAgo = 0) => new Date(NOW - daysAgo * 86_400_000 + i * 1000).toISOString();

/** A chain of n entries (retention 90), the i-th committed `daysAgo(i)` days before NOW. */
function chain(n: number, daysAgo: (i: number) => number = () => 1, salt = ''): StoredChainLink[] {
  const links: StoredChainLink[] = [];
  let prev = GENESIS_HASH;
  for (let i = 0; i < n; i++) {
    const body = `{"id":"${id(i)}","op":"delete","salt":"${salt}","tx":{"commitTime":"${committed(i, daysAgo(i))}","lsn":"0/${i}","seq":0,"xid":${i}}}`;
    const hash = chainHash(prev, body);
    links.push({ chain: 90, id: id(i), prevHash: prev, hash, body });
    prev = hash;
  }
  return links;
}

/** Checkpoints the way a running walaudit does: one after `every` entries. */
function checkpointsOf(links: StoredChainLink[], every: number): Checkpoint[] {
  const trees = new ChainTrees('audit.example.com/shop', { intervalMs: 60_000, entries: every }, NOW);
  const out: Checkpoint[] = [];
  for (const link of links) {
    trees.append({ partition: 0, retentionDays: link.chain, id: link.id, hash: link.hash, committedAt: commitTimeOfBody(link.body) });
    for (const { checkpoint } of trees.takeDue(NOW)) out.push(parseCheckpointText(encodeCheckpointText(checkpoint)));
  }
  for (const { checkpoint } of trees.takeDue(NOW, { every: true, final: true })) out.push(parseCheckpointText(encodeCheckpointText(checkpoint)));
  return out;
}

function audit(checkpoints: Checkpoint[], stored: StoredChainLink[]) {
  const run = new CheckpointAudit(checkpoints, new Date(NOW));
  for (const link of stored) run.push(link);
  return run.finish();
}

const kinds = (reports: ReturnType<typeof audit>) => reports.flatMap((report) => report.findings.map((finding) => finding.kind));

describe('CheckpointAudit', () => {
  const links = chain(13);
  const checkpoints = checkpointsOf(links, 5);

  it('finds nothing in an intact chain, and counts the entries after the newest checkpoint', () => {
    expect(checkpoints.map((checkpoint) => checkpoint.size)).toEqual([5, 10, 13]);
    const [report] = audit(checkpoints.slice(0, 2), links);
    expect(report!.findings).toEqual([]);
    expect(report!.rootChecked).toBe(true);
    expect(report!.afterCheckpoint).toBe(3);
    expect(kinds(audit(checkpoints, [...links, links[12]!]))).toEqual([]);
  });

  it('names entries stored after the checkpoint walaudit signed as it stopped', () => {
    const more = chain(14);
    const [report] = audit(checkpoints, more);
    expect(report!.findings.map((finding) => finding.kind)).toEqual(['appended-after-stop']);
    expect(report!.findings[0]!.message).toContain(`1 entries from ${id(13)} on`);
  });

  it('names a cut tail with the missing range', () => {
    const [report] = audit(checkpoints, links.slice(0, 2));
    expect(report!.findings).toHaveLength(1);
    expect(report!.findings[0]!.kind).toBe('tail-truncated');
    expect(report!.findings[0]!.message).toContain(`(11 of 13 entries)`);
    expect(report!.findings[0]!.message).toContain(`after ${id(1)} through ${id(12)}`);
    expect(kinds(audit(checkpoints, []))).toEqual(['tail-truncated']);
  });

  it('names a cut head inside retention, and lets retention remove what it may', () => {
    const [report] = audit(checkpoints, links.slice(3));
    expect(report!.findings.map((finding) => finding.kind)).toEqual(['head-truncated']);
    expect(report!.findings[0]!.message).toContain(`missing: ${id(0)} up to the entry before ${id(3)}`);
    // The first five entries are 100 days old: retention (90 days) removed them, nothing else.
    const aged = chain(13, (i) => (i < 5 ? 100 : 1));
    const agedCheckpoints = checkpointsOf(aged, 5);
    expect(kinds(audit(agedCheckpoints, aged.slice(5)))).toEqual([]);
    // ...but not the sixth, whose checkpoint head is within retention.
    expect(kinds(audit(agedCheckpoints, aged.slice(10)))).toEqual(['head-truncated']);
  });

  it('names a chain recomputed with fresh hashes, by its root and by its signed head', () => {
    const forged = chain(13, () => 1, 'forged');
    expect(kinds(audit(checkpoints, forged))).toEqual(['recomputed']);
    expect(audit(checkpoints, forged)[0]!.findings[0]!.message).toContain(`entry ${id(12)} has hash`);
    // Leaf 0 expired: the signed head hash still catches it.
    const aged = chain(13, (i) => (i < 5 ? 100 : 1));
    const agedForged = chain(13, (i) => (i < 5 ? 100 : 1), 'forged');
    expect(kinds(audit(checkpointsOf(aged, 5), agedForged.slice(5)))).toEqual(['recomputed']);
  });

  it('reads the commit time of an entry from its canonical body', () => {
    expect(commitTimeOfBody(links[0]!.body)).toBe(committed(0, 1));
    expect(commitTimeOfBody('{"before":{"tx":"x"},"tx":{"commitTime":"2026-01-01T00:00:00.000000Z","lsn":"0/1"}}')).toBe('2026-01-01T00:00:00.000000Z');
  });
});
