import { createHash } from 'node:crypto';

/**
 * RFC 6962 / RFC 9162 Merkle tree over a chain's entries, the leaf of entry i being its 32-byte
 * chain hash. Everything here works on 32-byte Buffers and never holds more than O(log n) hashes
 * for a tree of n leaves, so a chain of any length is hashed a leaf at a time.
 */
export type Hash = Buffer;

const LEAF = Buffer.from([0x00]);
const NODE = Buffer.from([0x01]);

/** The hash of the empty tree: SHA-256 of no bytes. */
export const EMPTY_ROOT: Hash = createHash('sha256').digest();

/** SHA-256(0x00 || leaf). */
export function leafHash(leaf: Uint8Array): Hash {
  return createHash('sha256').update(LEAF).update(leaf).digest();
}

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Hash {
  return createHash('sha256').update(NODE).update(left).update(right).digest();
}

/** An entry's chain hash (64 hex digits) as its 32-byte leaf. */
export function entryLeaf(entryHash: string): Buffer {
  if (!/^[0-9a-f]{64}$/.test(entryHash)) throw new RangeError(`not a 64-digit lower-case hex hash: ${entryHash}`);
  return Buffer.from(entryHash, 'hex');
}

/** The largest power of two smaller than n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * A compact range from leaf 0: the roots of the perfect subtrees that make up the first `size`
 * leaves, largest first (one per set bit of size). Appending a leaf merges equal subtrees, as
 * binary addition carries; the root folds them from the right. This is all a running chain needs
 * to keep to sign a checkpoint at any time.
 */
export class MerkleFrontier {
  private constructor(
    private readonly nodes: Hash[],
    private count: number,
  ) {}

  static empty(): MerkleFrontier {
    return new MerkleFrontier([], 0);
  }

  /** From a saved state; the number of hashes must be the number of set bits of size. */
  static restore(size: number, nodes: readonly Hash[]): MerkleFrontier {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`bad tree size ${size}`);
    if (popCount(size) !== nodes.length) throw new RangeError(`a tree of ${size} leaves has ${popCount(size)} frontier hashes, got ${nodes.length}`);
    return new MerkleFrontier(nodes.map((node) => Buffer.from(node)), size);
  }

  get size(): number {
    return this.count;
  }

  /** The frontier hashes, largest subtree first (what `restore` takes back). */
  get hashes(): readonly Hash[] {
    return this.nodes;
  }

  /** Adds one leaf (an entry's 32-byte hash). */
  append(leaf: Uint8Array): void {
    let hash = leafHash(leaf);
    for (let size = this.count; size % 2 === 1; size = Math.floor(size / 2)) hash = nodeHash(this.nodes.pop()!, hash);
    this.nodes.push(hash);
    this.count++;
  }

  root(): Hash {
    if (this.nodes.length === 0) return EMPTY_ROOT;
    let root = this.nodes[this.nodes.length - 1]!;
    for (let i = this.nodes.length - 2; i >= 0; i--) root = nodeHash(this.nodes[i]!, root);
    return root;
  }

  clone(): MerkleFrontier {
    return new MerkleFrontier([...this.nodes], this.count);
  }
}

function popCount(n: number): number {
  let bits = 0;
  for (let rest = n; rest > 0; rest = Math.floor(rest / 2)) bits += rest % 2;
  return bits;
}

/** A run of leaves [start, end) whose tree root is one hash of a proof. */
export interface LeafRange {
  start: number;
  end: number;
}

/** The ranges whose roots form the inclusion proof of leaf `index` in a tree of `size` (RFC 9162 2.1.3.1), leaf's sibling first. */
export function inclusionRanges(index: number, size: number): LeafRange[] {
  if (!(index >= 0 && index < size)) throw new RangeError(`leaf ${index} is not in a tree of ${size}`);
  const path: LeafRange[] = [];
  let [start, end, at] = [0, size, index];
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (at < k) {
      path.push({ start: start + k, end });
      end = start + k;
    } else {
      path.push({ start, end: start + k });
      start += k;
      at -= k;
    }
  }
  return path.reverse();
}

/** The ranges whose roots form the consistency proof from `oldSize` to `newSize` (RFC 9162 2.1.4.1), deepest first. */
export function consistencyRanges(oldSize: number, newSize: number): LeafRange[] {
  if (!(oldSize >= 0 && oldSize <= newSize)) throw new RangeError(`no consistency proof from ${oldSize} to ${newSize} leaves`);
  if (oldSize === 0 || oldSize === newSize) return [];
  const path: LeafRange[] = [];
  let [start, end, m, whole] = [0, newSize, oldSize, true];
  for (;;) {
    if (m === end - start) {
      if (!whole) path.push({ start, end });
      break;
    }
    const k = splitPoint(end - start);
    if (m <= k) {
      path.push({ start: start + k, end });
      end = start + k;
    } else {
      path.push({ start, end: start + k });
      start += k;
      m -= k;
      whole = false;
    }
  }
  return path.reverse();
}

/**
 * Hashes the roots of disjoint leaf ranges while the leaves stream past once, in order: one
 * compact range at a time, so a proof over a chain of millions holds O(log n) hashes.
 */
export class RangeHasher {
  private readonly order: LeafRange[];
  private readonly roots = new Map<string, Hash>();
  private position = 0;
  private current = 0;
  private frontier: MerkleFrontier | null = null;

  constructor(private readonly ranges: readonly LeafRange[]) {
    this.order = [...ranges].sort((a, b) => a.start - b.start);
    for (let i = 1; i < this.order.length; i++) {
      if (this.order[i]!.start < this.order[i - 1]!.end) throw new RangeError('proof ranges overlap');
    }
  }

  /** The next leaf, in tree order from leaf 0. */
  push(leaf: Uint8Array): void {
    const at = this.position++;
    const range = this.order[this.current];
    if (!range || at < range.start) return;
    this.frontier ??= MerkleFrontier.empty();
    this.frontier.append(leaf);
    if (at === range.end - 1) {
      this.roots.set(`${range.start}:${range.end}`, this.frontier.root());
      this.frontier = null;
      this.current++;
    }
  }

  get leavesSeen(): number {
    return this.position;
  }

  /** The hashes in the order the ranges were given; throws when a range was not fully seen. */
  result(): Hash[] {
    return this.ranges.map(({ start, end }) => {
      const root = this.roots.get(`${start}:${end}`);
      if (!root) throw new RangeError(`leaves ${start}..${end - 1} were not all seen (${this.position} leaves read)`);
      return root;
    });
  }
}

function hashRanges(leaves: readonly Uint8Array[], ranges: readonly LeafRange[]): Hash[] {
  const hasher = new RangeHasher(ranges);
  for (const leaf of leaves) hasher.push(leaf);
  return hasher.result();
}

/** The root of a tree over all these leaves. */
export function merkleRoot(leaves: readonly Uint8Array[]): Hash {
  const frontier = MerkleFrontier.empty();
  for (const leaf of leaves) frontier.append(leaf);
  return frontier.root();
}

/** Inclusion proof of leaf `index` in the tree of all `leaves`. */
export function inclusionProof(leaves: readonly Uint8Array[], index: number): Hash[] {
  return hashRanges(leaves, inclusionRanges(index, leaves.length));
}

/** Consistency proof from the tree of the first `oldSize` leaves to the tree of all `leaves`. */
export function consistencyProof(leaves: readonly Uint8Array[], oldSize: number): Hash[] {
  return hashRanges(leaves, consistencyRanges(oldSize, leaves.length));
}

const isOdd = (n: number) => n % 2 === 1;
const half = (n: number) => Math.floor(n / 2);
const isPowerOfTwo = (n: number) => n > 0 && popCount(n) === 1;

/** RFC 9162 2.1.3.2: does `proof` put `leaf` (the entry's 32 bytes, not yet leaf-hashed) at `index` under `root`? */
export function verifyInclusion(leaf: Uint8Array, index: number, size: number, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size)) return false;
  let [fn, sn] = [index, size - 1];
  let r: Buffer = leafHash(leaf);
  for (const p of proof) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 2.1.4.2: is the tree of `newSize` leaves with `newRoot` an append-only extension of the one of `oldSize` with `oldRoot`? */
export function verifyConsistency(oldSize: number, newSize: number, oldRoot: Uint8Array, newRoot: Uint8Array, proof: readonly Uint8Array[]): boolean {
  if (!(Number.isSafeInteger(oldSize) && Number.isSafeInteger(newSize) && oldSize >= 0 && oldSize <= newSize)) return false;
  if (oldSize === newSize) return proof.length === 0 && Buffer.from(oldRoot).equals(newRoot);
  // Every tree extends the empty one.
  if (oldSize === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : [...proof];
  let [fn, sn] = [oldSize - 1, newSize - 1];
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr: Hash = Buffer.from(path[0]!);
  let sr: Hash = Buffer.from(path[0]!);
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return fr.equals(oldRoot) && sr.equals(newRoot) && sn === 0;
}
