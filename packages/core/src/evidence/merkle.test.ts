import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  consistencyProof,
  EMPTY_ROOT,
  entryLeaf,
  inclusionProof,
  MerkleFrontier,
  merkleRoot,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js';

const sha = (...parts: Uint8Array[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

/** The tree written straight from RFC 9162's recursive definition, as the reference. */
function naiveRoot(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return sha();
  if (leaves.length === 1) return sha(Buffer.from([0]), leaves[0]!);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha(Buffer.from([1]), naiveRoot(leaves.slice(0, k)), naiveRoot(leaves.slice(k)));
}

function naivePath(m: number, leaves: Buffer[]): Buffer[] {
  if (leaves.length <= 1) return [];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return m < k
    ? [...naivePath(m, leaves.slice(0, k)), naiveRoot(leaves.slice(k))]
    : [...naivePath(m - k, leaves.slice(k)), naiveRoot(leaves.slice(0, k))];
}

function naiveSubproof(m: number, leaves: Buffer[], whole: boolean): Buffer[] {
  const n = leaves.length;
  if (m === n) return whole ? [] : [naiveRoot(leaves)];
  let k = 1;
  while (k * 2 < n) k *= 2;
  return m <= k
    ? [...naiveSubproof(m, leaves.slice(0, k), whole), naiveRoot(leaves.slice(k))]
    : [...naiveSubproof(m - k, leaves.slice(k), false), naiveRoot(leaves.slice(0, k))];
}

const leavesOf = (n: number) => Array.from({ length: n }, (_, i) => sha(Buffer.from(`entry ${i}`)));

// The eight leaves of the RFC 6962 reference test data (certificate-transparency), and the roots
// of the trees of their first 1..8 leaves.
const RFC_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((hex) => Buffer.from(hex, 'hex'));
const RFC_ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

describe('Merkle tree (RFC 6962 / 9162)', () => {
  it('gives the reference roots for the RFC 6962 test leaves', () => {
    expect(merkleRoot([]).toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(EMPTY_ROOT.toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    for (let n = 1; n <= 8; n++) expect(merkleRoot(RFC_LEAVES.slice(0, n)).toString('hex'), `size ${n}`).toBe(RFC_ROOTS[n - 1]);
  });

  it('the frontier gives the naive root at every size, and survives a save and restore', () => {
    const leaves = leavesOf(70);
    let frontier = MerkleFrontier.empty();
    for (let n = 0; n < leaves.length; n++) {
      expect(frontier.root().equals(naiveRoot(leaves.slice(0, n))), `size ${n}`).toBe(true);
      frontier = MerkleFrontier.restore(frontier.size, frontier.hashes);
      frontier.append(leaves[n]!);
    }
    expect(frontier.hashes.length).toBe(3); // 70 = 64 + 4 + 2
  });

  it('refuses a saved frontier whose hash count does not fit its size', () => {
    expect(() => MerkleFrontier.restore(3, [sha()])).toThrow(/2 frontier hashes/);
  });

  it('builds the naive inclusion proofs, which verify; a wrong leaf, index or root does not', () => {
    for (const n of [1, 2, 3, 5, 8, 13, 32, 33]) {
      const leaves = leavesOf(n);
      const root = naiveRoot(leaves);
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(leaves, i);
        expect(proof.map((h) => h.toString('hex')), `n=${n} i=${i}`).toEqual(naivePath(i, leaves).map((h) => h.toString('hex')));
        expect(verifyInclusion(leaves[i]!, i, n, proof, root)).toBe(true);
        expect(verifyInclusion(sha(Buffer.from('forged')), i, n, proof, root)).toBe(false);
        if (n > 1) expect(verifyInclusion(leaves[i]!, (i + 1) % n, n, proof, root)).toBe(false);
        if (proof.length > 0) expect(verifyInclusion(leaves[i]!, i, n, proof.slice(1), root)).toBe(false);
        expect(verifyInclusion(leaves[i]!, i, n, [...proof, sha()], root)).toBe(false);
      }
    }
    expect(verifyInclusion(leavesOf(1)[0]!, 1, 1, [], naiveRoot(leavesOf(1)))).toBe(false);
  });

  it('builds the naive consistency proofs, which verify; a changed old leaf or a shrink does not', () => {
    for (const n of [1, 2, 3, 4, 7, 8, 9, 16, 21]) {
      const leaves = leavesOf(n);
      const newRoot = naiveRoot(leaves);
      for (let m = 0; m <= n; m++) {
        const proof = consistencyProof(leaves, m);
        const expected = m === 0 ? [] : naiveSubproof(m, leaves, true);
        expect(proof.map((h) => h.toString('hex')), `m=${m} n=${n}`).toEqual(expected.map((h) => h.toString('hex')));
        const oldRoot = naiveRoot(leaves.slice(0, m));
        expect(verifyConsistency(m, n, oldRoot, newRoot, proof), `m=${m} n=${n}`).toBe(true);
        if (m > 0 && m < n) {
          const rewritten = [...leaves];
          rewritten[m - 1] = sha(Buffer.from('rewritten'));
          expect(verifyConsistency(m, n, naiveRoot(rewritten.slice(0, m)), newRoot, proof)).toBe(false);
          expect(verifyConsistency(n, m, newRoot, oldRoot, proof)).toBe(false);
          expect(verifyConsistency(m, n, oldRoot, newRoot, proof.slice(1))).toBe(false);
        }
      }
    }
  });

  it('reads an entry hash as its 32-byte leaf, and refuses anything else', () => {
    expect(entryLeaf('ab'.repeat(32))).toEqual(Buffer.alloc(32, 0xab));
    expect(() => entryLeaf('AB'.repeat(32))).toThrow(/hex/);
  });
});
