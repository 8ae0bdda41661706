import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateNoteSigner, noteKeyId, parseNote, parseNoteSigner, parseNoteVerifier, signNote, verifyNote } from './signed-note.js';

// The example of c2sp.org/signed-note: a verifier key and a note it verifies.
const SPEC_VKEY = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';
const SPEC_NOTE =
  'This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';

describe('signed notes (c2sp.org/signed-note, Ed25519)', () => {
  it('verifies the specification example and computes its key id', () => {
    const verifier = parseNoteVerifier(SPEC_VKEY);
    expect(verifier.keyId).toBe(0x530d903a);
    expect(verifier.text).toBe(SPEC_VKEY);
    const { text, signedBy } = verifyNote(SPEC_NOTE, [verifier]);
    expect(text).toBe('This is an example message.\n');
    expect(signedBy.map((key) => key.name)).toEqual(['example.com/foo']);
  });

  it('derives the key id as SHA-256(name || 0x0A || 0x01 || public key)[:4]', () => {
    const raw = Buffer.from(SPEC_VKEY.split('+')[2]!, 'base64').subarray(1);
    const expected = createHash('sha256').update(Buffer.concat([Buffer.from('example.com/foo\n'), Buffer.from([1]), raw])).digest().readUInt32BE(0);
    expect(noteKeyId('example.com/foo', raw)).toBe(expected);
  });

  it('signs what it verifies, and reads its own key file and verifier key back', () => {
    const signer = generateNoteSigner('audit.example.com/walaudit');
    const again = parseNoteSigner(signer.secretText);
    expect(again.text).toBe(signer.text);
    const note = signNote('hello\nworld\n', [again]);
    expect(note.startsWith('hello\nworld\n\n\u2014 audit.example.com/walaudit ')).toBe(true);
    expect(verifyNote(note, [parseNoteVerifier(signer.text)]).text).toBe('hello\nworld\n');
  });

  it('rejects an altered text or signature, and a note no trusted key signed', () => {
    const signer = generateNoteSigner('a.example/log');
    const note = signNote('size 10\n', [signer]);
    expect(() => verifyNote(note.replace('size 10', 'size 11'), [signer])).toThrow(expect.objectContaining({ code: 'CHECKPOINT_FORGED' }));
    const other = generateNoteSigner('a.example/log');
    expect(() => verifyNote(note, [other])).toThrow(expect.objectContaining({ code: 'CHECKPOINT_UNKNOWN_KEY' }));
    // A forger re-signing with a key of the same name is refused, by key id or by signature.
    expect(() => verifyNote(signNote('size 11\n', [other]), [signer])).toThrow(/no signature by a trusted key/);
  });

  it('ignores signatures of unknown keys, so a rotated key and a cosigner coexist', () => {
    const [old, current] = [generateNoteSigner('a.example/log'), generateNoteSigner('a.example/log')];
    const note = signNote('text\n', [old, current]);
    expect(verifyNote(note, [current]).signedBy).toHaveLength(1);
    expect(verifyNote(note, [old, current]).signedBy).toHaveLength(2);
    expect(parseNote(note).signatures).toHaveLength(2);
  });

  it('refuses malformed keys and notes with a reason', () => {
    expect(() => parseNoteVerifier('example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k')).toThrow(/does not match/);
    expect(() => parseNoteSigner('not a key')).toThrow(/PRIVATE\+KEY/);
    expect(() => generateNoteSigner('has space')).toThrow(/no spaces/);
    expect(() => parseNote('text without signatures\n')).toThrow(/empty line/);
    expect(() => signNote('no final newline', [])).toThrow(/newline/);
  });
});
