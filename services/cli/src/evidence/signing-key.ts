import { readFileSync, statSync } from 'node:fs';
import { parseNoteSigner, parseNoteVerifier, WalauditError, type NoteSigner, type NoteVerifier, type WalauditConfig } from '@walaudit/core';

/** The checkpoint signing key of the configuration (`checkpoints.key`, else `checkpoints.keyFile`); null: checkpoints are off. */
export function loadSigningKey(config: WalauditConfig): NoteSigner | null {
  const { key, keyFile } = config.checkpoints;
  if (key) return parseNoteSigner(key, 'checkpoints.key (WALAUDIT_SIGNING_KEY)');
  if (!keyFile) return null;
  let text: string;
  try {
    text = readFileSync(keyFile, 'utf8');
  } catch (error) {
    throw new WalauditError('CONFIG_INVALID', `checkpoints.keyFile ${keyFile} cannot be read: ${(error as Error).message}`, { cause: error });
  }
  // Anyone who can read the key can sign a forged checkpoint: refuse a key others may read.
  if (process.platform !== 'win32' && (statSync(keyFile).mode & 0o077) !== 0) {
    throw new WalauditError('CONFIG_INVALID', `checkpoints.keyFile ${keyFile} can be read by others: chmod 600 ${keyFile}`);
  }
  return parseNoteSigner(text, `checkpoints.keyFile ${keyFile}`);
}

/** Verifier keys given on the command line: the text itself, or a file holding one per line. */
export function loadVerifierKeys(values: readonly string[]): NoteVerifier[] {
  if (values.length === 0) throw new WalauditError('CONFIG_INVALID', 'give the verifier key with --key (what `walaudit keys generate` printed), or a file holding it');
  return values.flatMap((value) => {
    if (value.includes('+')) return [parseNoteVerifier(value, `--key ${value}`)];
    let text: string;
    try {
      text = readFileSync(value, 'utf8');
    } catch (error) {
      throw new WalauditError('CONFIG_INVALID', `--key ${value}: neither a verifier key nor a readable file (${(error as Error).message})`, { cause: error });
    }
    return text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => parseNoteVerifier(line, `--key ${value}`));
  });
}
