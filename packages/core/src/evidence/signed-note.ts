import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { WalauditError } from '../errors.js';

/**
 * Signed notes (c2sp.org/signed-note) with Ed25519 keys, the format of Go's checksum database and
 * of transparency-log checkpoints, so an auditor's own tools read what walaudit signs.
 *
 *   text (ends in a newline)
 *   (one empty line)
 *   — <key name> base64(4-byte key id || 64-byte signature)
 */

/** Signature type byte of Ed25519 in key ids and verifier keys. */
const ED25519 = 0x01;
const EM_DASH = '\u2014';

export interface NoteVerifier {
  name: string;
  /** First 4 bytes of SHA-256(name || 0x0A || 0x01 || public key), big-endian. */
  keyId: number;
  publicKey: KeyObject;
  /** `<name>+<hex key id>+<base64(0x01 || public key)>`: what a verifier is configured with. */
  text: string;
}

export interface NoteSigner extends NoteVerifier {
  privateKey: KeyObject;
  /** `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || 32-byte seed)>` (Go's note signer key form). */
  secretText: string;
}

export interface NoteSignature {
  name: string;
  keyId: number;
  signature: Buffer;
}

export interface ParsedNote {
  /** The signed text, its final newline included. */
  text: string;
  signatures: NoteSignature[];
}

const invalid = (message: string) => new WalauditError('CONFIG_INVALID', message);

function checkKeyName(name: string): void {
  if (!name || /[\s+]/u.test(name)) throw invalid(`key name "${name}": must be non-empty, with no spaces and no "+"`);
}

/** SHA-256(name || 0x0A || 0x01 || public key)[:4] as a big-endian integer. */
export function noteKeyId(name: string, publicKey: Uint8Array): number {
  return createHash('sha256').update(name, 'utf8').update(Buffer.from([0x0a, ED25519])).update(publicKey).digest().readUInt32BE(0);
}

const hex8 = (id: number) => id.toString(16).padStart(8, '0');
const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || !jwk.x) throw invalid('not an Ed25519 key');
  return Buffer.from(jwk.x, 'base64url');
}

function publicKeyFromRaw(raw: Buffer): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(raw) }, format: 'jwk' });
}

function verifierOf(name: string, publicKey: KeyObject): NoteVerifier {
  const raw = rawPublicKey(publicKey);
  const keyId = noteKeyId(name, raw);
  return { name, keyId, publicKey, text: `${name}+${hex8(keyId)}+${Buffer.concat([Buffer.from([ED25519]), raw]).toString('base64')}` };
}

/** PKCS #8 DER of an Ed25519 private key, before its 32-byte seed (RFC 8410). */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function signerOf(name: string, seed: Buffer): NoteSigner {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const verifier = verifierOf(name, createPublicKey(privateKey));
  const secretText = `PRIVATE+KEY+${name}+${hex8(verifier.keyId)}+${Buffer.concat([Buffer.from([ED25519]), seed]).toString('base64')}`;
  return { ...verifier, privateKey, secretText };
}

/** A new Ed25519 signing key under this name (a schema-less URL such as `audit.example.com/walaudit`). */
export function generateNoteSigner(name: string): NoteSigner {
  checkKeyName(name);
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  return signerOf(name, Buffer.from(jwk.d!, 'base64url'));
}

/** `<name>+<key id>+<base64>`: the name holds no "+", the base64 may. */
function splitKey(text: string): [string, string, string] | null {
  const match = /^([^+]+)\+([^+]+)\+(.+)$/s.exec(text);
  return match ? [match[1]!, match[2]!, match[3]!] : null;
}

/** Reads `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`; `origin` names where it came from in errors. */
export function parseNoteSigner(text: string, origin = 'signing key'): NoteSigner {
  const trimmed = text.trim();
  const parts = trimmed.startsWith('PRIVATE+KEY+') ? splitKey(trimmed.slice('PRIVATE+KEY+'.length)) : null;
  if (!parts) throw invalid(`${origin}: not a walaudit signing key (expected PRIVATE+KEY+<name>+<key id>+<key>, as "walaudit keys generate" writes)`);
  const [name, id, material] = parts;
  checkKeyName(name);
  const bytes = Buffer.from(material, 'base64');
  if (bytes.length !== 33 || bytes[0] !== ED25519) throw invalid(`${origin}: the key material is not an Ed25519 seed`);
  const signer = signerOf(name, bytes.subarray(1));
  if (hex8(signer.keyId) !== id.toLowerCase()) throw invalid(`${origin}: key id ${id} does not match the key (it is ${hex8(signer.keyId)}): the file was altered`);
  return signer;
}

/** Reads a verifier key `<name>+<hex key id>+<base64(0x01 || public key)>`. */
export function parseNoteVerifier(text: string, origin = 'verifier key'): NoteVerifier {
  const parts = splitKey(text.trim());
  if (!parts) throw invalid(`${origin}: a verifier key is <name>+<key id>+<key>, as "walaudit keys generate" prints it`);
  const [name, id, material] = parts;
  checkKeyName(name);
  if (!/^[0-9a-fA-F]{8}$/.test(id)) throw invalid(`${origin}: the key id "${id}" is not 8 hex digits`);
  const bytes = Buffer.from(material, 'base64');
  if (bytes.length !== 33 || bytes[0] !== ED25519) throw invalid(`${origin}: not an Ed25519 verifier key`);
  const verifier = verifierOf(name, publicKeyFromRaw(bytes.subarray(1)));
  if (verifier.keyId !== Number.parseInt(id, 16)) throw invalid(`${origin}: key id ${id} does not match the key (it is ${hex8(verifier.keyId)})`);
  return verifier;
}

/** `text` (which must end in a newline) signed by each signer. */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  checkNoteText(text);
  const lines = signers.map((signer) => {
    const signature = sign(null, Buffer.from(text, 'utf8'), signer.privateKey);
    const id = Buffer.alloc(4);
    id.writeUInt32BE(signer.keyId);
    return `${EM_DASH} ${signer.name} ${Buffer.concat([id, signature]).toString('base64')}\n`;
  });
  return `${text}\n${lines.join('')}`;
}

function checkNoteText(text: string): void {
  if (!text.endsWith('\n')) throw new RangeError('a note text ends in a newline');
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x09\x0b-\x1f]/.test(text)) throw new RangeError('a note holds no control characters but newlines');
}

const malformed = (message: string) => new WalauditError('CHECKPOINT_INVALID', message);

/** Splits a note into its text and its signature lines (unverified). */
export function parseNote(note: string): ParsedNote {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x09\x0b-\x1f]/.test(note)) throw malformed('the note holds control characters');
  if (!note.endsWith('\n')) throw malformed('the note does not end in a newline');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw malformed('the note has no empty line before its signatures');
  const text = note.slice(0, split + 1);
  const signatures = note
    .slice(split + 2, -1)
    .split('\n')
    .map((line) => {
      const match = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/u.exec(line);
      if (!match) throw malformed(`not a signature line: "${line}"`);
      const bytes = Buffer.from(match[2]!, 'base64');
      if (bytes.length < 5) throw malformed(`signature of ${match[1]} is too short`);
      return { name: match[1]!, keyId: bytes.readUInt32BE(0), signature: bytes.subarray(4) };
    });
  return { text, signatures };
}

/**
 * Verifies a note against the trusted keys: signatures of unknown keys are ignored (rotation,
 * cosigners), one of a known key that fails rejects the note, and at least one must verify.
 * Returns the text and the names of the keys that signed it.
 */
export function verifyNote(note: string, verifiers: readonly NoteVerifier[]): { text: string; signedBy: NoteVerifier[] } {
  const { text, signatures } = parseNote(note);
  const signedBy: NoteVerifier[] = [];
  for (const sig of signatures) {
    const key = verifiers.find((verifier) => verifier.name === sig.name && verifier.keyId === sig.keyId);
    if (!key) continue;
    if (!verify(null, Buffer.from(text, 'utf8'), key.publicKey, sig.signature)) {
      throw new WalauditError('CHECKPOINT_FORGED', `the signature of ${key.name} (key id ${hex8(key.keyId)}) does not verify: the note was altered or forged`);
    }
    signedBy.push(key);
  }
  if (signedBy.length === 0) {
    const names = signatures.map((sig) => `${sig.name} (key id ${hex8(sig.keyId)})`).join(', ');
    throw new WalauditError('CHECKPOINT_UNKNOWN_KEY', `no signature by a trusted key: signed by ${names || 'nobody'}; pass the verifier key of one of them with --key`);
  }
  return { text, signedBy };
}
