/**
 * A verifier of walaudit's evidence written from schemas/checkpoints.md alone, with node:crypto and
 * nothing of walaudit: if it agrees with walaudit, the format is documented well enough for an
 * auditor's own tools.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';

const sha256 = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
const ZERO = Buffer.from([0]);
const ONE = Buffer.from([1]);

/** Verifier key `<name>+<hex id>+<base64(0x01 || key)>` checked against a signed note; returns the note text's lines. */
export function checkNote(note: string, vkey: string): string[] {
  const firstPlus = vkey.indexOf('+');
  const name = vkey.slice(0, firstPlus);
  const [idHex, keyB64] = [vkey.slice(firstPlus + 1, firstPlus + 9), vkey.slice(firstPlus + 10)];
  const material = Buffer.from(keyB64, 'base64');
  if (material[0] !== 0x01 || material.length !== 33) throw new Error('not an Ed25519 verifier key');
  const raw = material.subarray(1);
  const id = sha256(Buffer.from(`${name}\n`, 'utf8'), Buffer.from([0x01]), raw).subarray(0, 4);
  if (id.toString('hex') !== idHex) throw new Error('key id does not match the key');
  const split = note.lastIndexOf('\n\n');
  const text = note.slice(0, split + 1);
  const signatureLines = note.slice(split + 2).split('\n').filter(Boolean);
  // SPKI DER of an Ed25519 key: a fixed 12-byte header, then the 32 key bytes (RFC 8410).
  const publicKey = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]), format: 'der', type: 'spki' });
  const ours = signatureLines.map((line) => line.split(' ')).filter(([dash, signer]) => dash === '\u2014' && signer === name);
  const good = ours.some(([, , b64]) => {
    const bytes = Buffer.from(b64!, 'base64');
    return bytes.subarray(0, 4).equals(id) && verify(null, Buffer.from(text, 'utf8'), publicKey, bytes.subarray(4));
  });
  if (!good) throw new Error('no valid signature of this key');
  return text.slice(0, -1).split('\n');
}

/** RFC 9162 2.1.3.2, as the document says. */
export function checkInclusion(entryHashHex: string, index: number, size: number, proof: string[], rootB64: string): boolean {
  let fn = index;
  let sn = size - 1;
  let r = sha256(ZERO, Buffer.from(entryHashHex, 'hex'));
  for (const b64 of proof) {
    const p = Buffer.from(b64, 'base64');
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = sha256(ONE, p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else r = sha256(ONE, r, p);
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.toString('base64') === rootB64;
}

/** RFC 9162 2.1.4.2, as the document says. */
export function checkConsistency(oldSize: number, newSize: number, oldRootB64: string, newRootB64: string, proof: string[]): boolean {
  if (oldSize === newSize) return proof.length === 0 && oldRootB64 === newRootB64;
  const path = proof.map((b64) => Buffer.from(b64, 'base64'));
  if ((oldSize & (oldSize - 1)) === 0) path.unshift(Buffer.from(oldRootB64, 'base64'));
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = sha256(ONE, c, fr);
      sr = sha256(ONE, c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else sr = sha256(ONE, sr, c);
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return fr.toString('base64') === oldRootB64 && sr.toString('base64') === newRootB64 && sn === 0;
}

/** An entry's own hash: hex(SHA-256(prevHash as 64 ASCII hex || event as UTF-8)). */
export const entryHash = (prevHash: string, event: string) => createHash('sha256').update(prevHash + event, 'utf8').digest('hex');
