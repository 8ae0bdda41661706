import { describe, expect, it } from 'vitest';
import { checkpointOrigin, encodeCheckpointText, parseCheckpointOrigin, parseCheckpointText, signCheckpoint, verifyCheckpoint } from './checkpoint.js';
import { EMPTY_ROOT, merkleRoot } from './merkle.js';
import { generateNoteSigner, parseNoteVerifier } from './signed-note.js';

const hash = 'ab'.repeat(32);
const checkpoint = {
  origin: checkpointOrigin('audit.example.com/walaudit', { partition: 0, retentionDays: 90 }),
  size: 3,
  root: merkleRoot([Buffer.alloc(32, 1), Buffer.alloc(32, 2), Buffer.alloc(32, 3)]),
  first: { id: '0000000001796738-0', committedAt: '2026-12-05T07:59:58.000Z' },
  head: { id: '0000000001796900-4', hash, committedAt: '2026-12-05T08:00:00.123Z' },
  time: '2026-12-05T08:01:00.000Z',
  final: false,
};

describe('checkpoints (c2sp.org/tlog-checkpoint)', () => {
  it('writes origin, size and base64 root first, then walaudit extension lines', () => {
    expect(encodeCheckpointText(checkpoint).split('\n')).toEqual([
      'audit.example.com/walaudit/p0/r90',
      '3',
      checkpoint.root.toString('base64'),
      'first 0000000001796738-0 2026-12-05T07:59:58.000Z',
      `head 0000000001796900-4 ${hash} 2026-12-05T08:00:00.123Z`,
      'time 2026-12-05T08:01:00.000Z',
      '',
    ]);
  });

  it('reads back what it writes, an empty chain included', () => {
    expect(parseCheckpointText(encodeCheckpointText(checkpoint))).toEqual({ ...checkpoint, chain: { partition: 0, retentionDays: 90 } });
    const empty = { ...checkpoint, size: 0, root: EMPTY_ROOT, first: null, head: null };
    expect(encodeCheckpointText(empty).split('\n')).toHaveLength(5);
    expect(parseCheckpointText(encodeCheckpointText(empty)).size).toBe(0);
    const final = encodeCheckpointText({ ...checkpoint, final: true });
    expect(final.endsWith('time 2026-12-05T08:01:00.000Z\nfinal\n')).toBe(true);
    expect(parseCheckpointText(final).final).toBe(true);
  });

  it('names the chain in the origin', () => {
    expect(parseCheckpointOrigin('walaudit.example/prod/p3/r0')).toEqual({ keyName: 'walaudit.example/prod', chain: { partition: 3, retentionDays: 0 } });
    expect(() => parseCheckpointOrigin('walaudit.example/prod')).toThrow(/p<partition>/);
  });

  it('is verified by its key and by no other', () => {
    const signer = generateNoteSigner('audit.example.com/walaudit');
    const note = signCheckpoint(checkpoint, signer);
    const read = verifyCheckpoint(note, [parseNoteVerifier(signer.text)]);
    expect(read.size).toBe(3);
    expect(read.root.equals(checkpoint.root)).toBe(true);
    expect(read.signedBy).toEqual([signer.text]);
    expect(() => verifyCheckpoint(note.replace('\n3\n', '\n2\n'), [signer])).toThrow(expect.objectContaining({ code: 'CHECKPOINT_FORGED' }));
  });

  it('refuses a malformed size or root', () => {
    const text = encodeCheckpointText(checkpoint);
    expect(() => parseCheckpointText(text.replace('\n3\n', '\n03\n'))).toThrow(/decimal/);
    expect(() => parseCheckpointText(text.replace(checkpoint.root.toString('base64'), 'AAAA'))).toThrow(/32 bytes/);
  });
});
