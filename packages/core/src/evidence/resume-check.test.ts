import { describe, expect, it } from 'vitest';
import { chainHash, GENESIS_HASH, type StoredChainLink } from '../hash-chain.js';
import type { ChainHead } from '../audit-store.types.js';
import { ChainTrees, commitTimeOfBody } from './chain-trees.js';
import { encodeCheckpointText, parseCheckpointText } from './checkpoint.js';
import { parseEventId } from './entry-ref.js';
import { merkleRoot, entryLeaf } from './merkle.js';
import { ResumeCheck, type PublishedChain } from './resume-check.js';

const id = (i: number) => `${(0x2000 + i).toString(16).toUpperCase().padStart(16, '0')}-0`;
function chain(n: number, salt = ''): StoredChainLink[] {
  const links: StoredChainLink[] = [];
  let prev = GENESIS_HASH;
  for (let i = 0; i < n; i++) {
    const body = `{"id":"${id(i)}","salt":"${salt}","tx":{"commitTime":"2026-12-05T08:00:0${i % 10}.000000Z","lsn":"0/${i}","seq":0,"xid":${i}}}`;
    const hash = chainHash(prev, body);
    links.push({ chain: 90, id: id(i), prevHash: prev, hash, body });
    prev = hash;
  }
  return links;
}

/** The last checkpoint a walaudit signed after `size` entries (final: as it stopped). */
function published(links: StoredChainLink[], size: number, final = false): PublishedChain {
  const trees = new ChainTrees('a.example/x', { intervalMs: 60_000, entries: 1_000 }, 0);
  for (const link of links.slice(0, size)) trees.append({ partition: 0, retentionDays: 90, id: link.id, hash: link.hash, committedAt: commitTimeOfBody(link.body) });
  const { checkpoint, state } = trees.takeDue(0, { every: true, final })[0]!;
  return { checkpoint: parseCheckpointText(encodeCheckpointText(checkpoint)), frontier: state.frontier };
}

const headOf = (link: StoredChainLink): ChainHead => ({ chain: 90, id: link.id, lsn: parseEventId(link.id)!.lsn, seq: 0, hash: link.hash });

function resume(item: PublishedChain[], stored: StoredChainLink[]) {
  const check = new ResumeCheck(item, stored.length ? [headOf(stored.at(-1)!)] : [], 'checkpoints.jsonl');
  const from = check.readFrom();
  for (const link of stored) if (!from || parseEventId(link.id)!.lsn >= from.lsn) check.push(link);
  return check.finish();
}

describe('ResumeCheck', () => {
  const links = chain(10);

  it('continues the tree from the checkpoint with the entries stored after it, reading from its head', () => {
    const [state] = resume([published(links, 6)], links);
    expect(state!.frontier.size).toBe(10);
    expect(state!.frontier.root().equals(merkleRoot(links.map((link) => entryLeaf(link.hash))))).toBe(true);
    expect(new ResumeCheck([published(links, 6)], [headOf(links[9]!)], 'f').readFrom()).toEqual(parseEventId(id(5)));
  });

  it('builds the tree from the store when no checkpoint covers the chain', () => {
    const [state] = resume([], links);
    expect(state!.frontier.size).toBe(10);
    expect(state!.first!.id).toBe(id(0));
  });

  it('refuses a cut tail, a rewritten chain, an entry added after the final checkpoint, and an emptied store', () => {
    expect(() => resume([published(links, 8)], links.slice(0, 5))).toThrow(/newest stored entry is .*-0, but the last checkpoint .* the entries after 0000000000002004-0 through 0000000000002007-0 are missing \(tail truncation\)/);
    expect(() => resume([published(links, 8)], chain(10, 'forged'))).toThrow(/has hash [0-9a-f]{64} in the store, but the checkpoint .* signed [0-9a-f]{64}: the chain was rewritten/);
    expect(() => resume([published(links, 9, true)], links)).toThrow(/entry 0000000000002009-0 was stored after the checkpoint walaudit signed as it stopped/);
    expect(() => resume([published(links, 9)], [])).toThrow(/the store holds none of its entries/);
    expect(() => resume([published(links, 8)], links)).not.toThrow();
  });

  it('refuses a saved frontier that does not give the signed root', () => {
    const item = published(links, 6);
    expect(() => new ResumeCheck([{ ...item, frontier: published(links, 5).frontier }], [], 'f')).toThrow(/does not give its signed root/);
  });
});
