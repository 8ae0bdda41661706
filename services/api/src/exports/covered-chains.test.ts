import { chainHash, eventId, formatLsn, GENESIS_HASH, type StoredChainLink } from '@walaudit/core';
import { describe, expect, it } from 'vitest';
import { entryOf } from '../../../../test/support/audit-entry-fixture.js';
import { verificationInWords, verifyCoveredChains } from './covered-chains.js';

/**
 * A log of `count` entries, one per commit LSN 1..count, alternating between two chains (kept
 * 90 and 365 days), each linked to the one before in its own chain.
 */
function log(count: number): StoredChainLink[] {
  const heads = new Map<number, string>();
  const links: StoredChainLink[] = [];
  for (let lsn = 1; lsn <= count; lsn++) {
    const chain = lsn % 2 === 1 ? 90 : 365;
    const prevHash = heads.get(chain) ?? GENESIS_HASH;
    const body = `{"n":${lsn}}`;
    const hash = chainHash(prevHash, body);
    links.push({ chain, id: eventId(BigInt(lsn), 0), prevHash, hash, body });
    heads.set(chain, hash);
  }
  return links;
}

/** The exported entry at a commit LSN, in its chain. */
const exported = (lsn: number) => entryOf(0, { id: eventId(BigInt(lsn), 0), tx: { xid: lsn, lsn: formatLsn(BigInt(lsn)), commitTime: '2026-03-02T10:00:00Z', seq: 0 }, retentionDays: lsn % 2 === 1 ? 90 : 365 });

/** A store whose readChain records where it was asked to start and how far it was read. */
function storeOf(links: StoredChainLink[]) {
  const reads = { from: undefined as bigint | undefined, yielded: 0 };
  return {
    reads,
    async *readChain(from?: { lsn: bigint; seq: number }) {
      reads.from = from?.lsn;
      for (const link of links) {
        if (from && BigInt(`0x${link.id.split('-')[0]}`) < from.lsn) continue;
        reads.yielded++;
        yield link;
      }
    },
  };
}

describe('verifyCoveredChains', () => {
  it('checks the stretch of the exported entries\' chain, from the oldest to the entry after the newest', async () => {
    const store = storeOf(log(20));
    const check = await verifyCoveredChains(store, [exported(9), exported(5)]);
    // Chain 90 holds 5, 7, 9, then 11 (the link after the newest): 4 entries; chain 365 is skipped.
    expect(check).toMatchObject({ chains: 1, unseen: 0, fromId: eventId(5n, 0), report: { ok: true, entriesChecked: 4 } });
    expect(store.reads.from).toBe(5n);
    expect(store.reads.yielded).toBe(7);
    expect(verificationInWords(check)).toBe(
      `Intact: 1 hash chain holding the entries of this report verified from its oldest entry ${eventId(5n, 0)} to the entry after its newest (or the end of the log), 4 entries checked, every hash and link holds.`,
    );
  });

  it('finds an edit of an exported entry, and of an entry between two exported ones', async () => {
    for (const edited of [9, 7]) {
      const altered = log(20).map((link) => (link.id === eventId(BigInt(edited), 0) ? { ...link, body: '{"n":0}' } : link));
      const check = await verifyCoveredChains(storeOf(altered), [exported(9), exported(5)]);
      expect(check.report.ok).toBe(false);
      expect(verificationInWords(check)).toMatch(new RegExp(`^BROKEN: 1 hash chain holding the entries of this report failed verification at entry ${eventId(BigInt(edited), 0)} \\(altered: `));
    }
  });

  it('finds a newest entry rewritten with its hash (the next link no longer holds), ignores other chains', async () => {
    const links = log(20);
    const rewritten = links.map((link) => (link.id === eventId(9n, 0) ? { ...link, body: '{"n":0}', hash: chainHash(link.prevHash, '{"n":0}') } : link));
    const check = await verifyCoveredChains(storeOf(rewritten), [exported(9)]);
    expect(check.report.problem).toMatchObject({ id: eventId(11n, 0), kind: 'removed-or-inserted' });
    const other = await verifyCoveredChains(storeOf(rewritten), [exported(8), exported(12)]);
    expect(other.report).toMatchObject({ ok: true, entriesChecked: 4 });
  });

  it('checks every chain the entries belong to, to the end of the log when nothing follows', async () => {
    // Chain 90: 3 and 5 (the link after 3); chain 365: 4 to 10, the end of the log.
    const check = await verifyCoveredChains(storeOf(log(10)), [exported(10), exported(3)]);
    expect(check).toMatchObject({ chains: 2, unseen: 0, report: { ok: true, entriesChecked: 6 } });
  });

  it('says when an exported entry is no longer in its chain, and when there is nothing to check', async () => {
    const check = await verifyCoveredChains(storeOf(log(10)), [exported(3), exported(41)]);
    expect(verificationInWords(check)).toMatch(/^INCOMPLETE: .* 1 entry of this report was not found/);
    expect(verificationInWords(await verifyCoveredChains(storeOf(log(10)), []))).toBe('No entry to verify.');
  });
});
