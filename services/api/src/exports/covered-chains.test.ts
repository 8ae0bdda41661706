import { chainHash, GENESIS_HASH, type StoredChainLink } from '@walaudit/core';
import { describe, expect, it } from 'vitest';
import { entryOf } from './export-fixture.test-support.js';
import { verificationInWords, verifyCoveredChains } from './covered-chains.js';

/** A chain of `count` links kept `days` days, ids `<days>-<n>`. */
function chain(days: number, count: number): StoredChainLink[] {
  const links: StoredChainLink[] = [];
  let prevHash = GENESIS_HASH;
  for (let index = 0; index < count; index++) {
    const body = `{"n":${index}}`;
    const hash = chainHash(prevHash, body);
    links.push({ chain: days, id: `${days}-${index}`, prevHash, hash, body });
    prevHash = hash;
  }
  return links;
}

const storeOf = (links: StoredChainLink[]) => ({
  async *readChain() {
    yield* links;
  },
});

describe('verifyCoveredChains', () => {
  const log = [...chain(90, 3), ...chain(365, 2)];

  it('checks only the chains the exported entries belong to, whole', async () => {
    const check = await verifyCoveredChains(storeOf(log), [entryOf(0, { id: '90-2', retentionDays: 90 })]);
    expect(check).toMatchObject({ chains: 1, unseen: 0, report: { ok: true, entriesChecked: 3 } });
    expect(verificationInWords(check)).toBe('Intact: 1 hash chain holding the entries of this report verified, 3 entries checked, every hash and link holds.');
  });

  it('names the entry where a covered chain breaks, and ignores a break in another chain', async () => {
    const altered = log.map((link) => (link.id === '90-1' ? { ...link, body: '{"n":99}' } : link));
    const broken = await verifyCoveredChains(storeOf(altered), [entryOf(0, { id: '90-2', retentionDays: 90 })]);
    expect(broken.report.ok).toBe(false);
    expect(verificationInWords(broken)).toMatch(/^BROKEN: 1 hash chain holding the entries of this report failed verification at entry 90-1 \(altered: /);
    const other = await verifyCoveredChains(storeOf(altered), [entryOf(0, { id: '365-0', retentionDays: 365 })]);
    expect(other.report).toMatchObject({ ok: true, entriesChecked: 2 });
  });

  it('says when an exported entry is no longer in its chain', async () => {
    const check = await verifyCoveredChains(storeOf(log), [entryOf(0, { id: '90-7', retentionDays: 90 })]);
    expect(verificationInWords(check)).toMatch(/^INCOMPLETE: .* 1 entry of this report was not found/);
    expect(verificationInWords(await verifyCoveredChains(storeOf(log), []))).toBe('No entry to verify.');
  });
});
