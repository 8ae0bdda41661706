import { describe, expect, it } from 'vitest';
import { chainHash, GENESIS_HASH } from '../hash-chain.js';
import { checkpointOrigin, signCheckpoint } from './checkpoint.js';
import { consistencyProof, entryLeaf, inclusionProof, merkleRoot } from './merkle.js';
import { verifyConsistencyProof, verifyEntryProof, type EntryProof } from './proofs.js';
import { generateNoteSigner } from './signed-note.js';

const signer = generateNoteSigner('audit.example.com/shop');
const entries = Array.from({ length: 7 }, (_, i) => ({ id: `${String(i).padStart(16, '0')}-0`, body: `{"n":${i}}` }));
const chained = entries.reduce<Array<{ id: string; prevHash: string; hash: string; event: string }>>((list, { id, body }) => {
  const prevHash = list.at(-1)?.hash ?? GENESIS_HASH;
  return [...list, { id, prevHash, hash: chainHash(prevHash, body), event: body }];
}, []);
const leaves = chained.map((entry) => entryLeaf(entry.hash));
const checkpointAt = (size: number) =>
  signCheckpoint(
    {
      origin: checkpointOrigin(signer.name, { partition: 0, retentionDays: 90 }),
      size,
      root: merkleRoot(leaves.slice(0, size)),
      first: { id: chained[0]!.id, committedAt: '2026-12-05T08:00:00Z' },
      head: { id: chained[size - 1]!.id, hash: chained[size - 1]!.hash, committedAt: '2026-12-05T08:00:00Z' },
      time: '2026-12-05T08:00:00.000Z',
      final: false,
    },
    signer,
  );

describe('proofs', () => {
  const proof: EntryProof = { format: 'walaudit-proof/1', entry: chained[3]!, index: 3, proof: inclusionProof(leaves, 3).map((h) => h.toString('base64')), checkpoint: checkpointAt(7) };

  it('verifies an entry proof, and names an altered entry, a wrong index and a foreign key', () => {
    expect(verifyEntryProof(proof, [signer]).checkpoint.size).toBe(7);
    expect(() => verifyEntryProof({ ...proof, entry: { ...proof.entry, event: '{"n":33}' } }, [signer])).toThrow(/the entry was altered/);
    expect(() => verifyEntryProof({ ...proof, index: 4 }, [signer])).toThrow(/inclusion proof does not lead to its root/);
    expect(() => verifyEntryProof(proof, [generateNoteSigner('audit.example.com/shop')])).toThrow(expect.objectContaining({ code: 'CHECKPOINT_UNKNOWN_KEY' }));
  });

  it('verifies a consistency proof between two checkpoints, and names a rewritten older tree', () => {
    const good = { format: 'walaudit-consistency/1' as const, old: checkpointAt(3), new: checkpointAt(7), proof: consistencyProof(leaves, 3).map((h) => h.toString('base64')) };
    expect(verifyConsistencyProof(good, [signer]).new.size).toBe(7);
    const rewritten = [...leaves];
    rewritten[1] = entryLeaf('ff'.repeat(32));
    const bad = { ...good, proof: consistencyProof(rewritten, 3).map((h) => h.toString('base64')) };
    expect(() => verifyConsistencyProof(bad, [signer])).toThrow(/does not extend the tree of 3/);
  });
});
