import { openSync, writeSync, closeSync, fsyncSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { generateNoteSigner, WalauditError, type WalauditConfig } from '@walaudit/core';
import { loadConfig, type CommonFlags } from '../config-loader.js';
import { loadSigningKey } from '../evidence/signing-key.js';
import { proveCommand, proveConsistencyCommand, verifyProofCommand } from '../evidence/prove-commands.js';
import type { CliParts } from './alerts-cli.js';

export interface KeysGenerateFlags {
  out?: string;
  name?: string;
  printSecret?: boolean;
}

const defaultKeyName = () => `walaudit.local/${hostname().replace(/[^A-Za-z0-9.-]/g, '-') || 'walaudit'}`;

/** Writes a new signing key (mode 0600, never over an existing file) and prints its verifier key. */
export function keysGenerateCommand(config: WalauditConfig, flags: KeysGenerateFlags, out: (line: string) => void): number {
  const signer = generateNoteSigner(flags.name ?? defaultKeyName());
  if (flags.printSecret) {
    out(signer.secretText);
  } else {
    const file = flags.out ?? config.checkpoints.keyFile;
    if (!file) throw new WalauditError('CONFIG_INVALID', 'say where the signing key goes: --out FILE (then set checkpoints.keyFile to it), or --print-secret to put it in WALAUDIT_SIGNING_KEY yourself');
    mkdirSync(dirname(file), { recursive: true });
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (error) {
      const exists = (error as NodeJS.ErrnoException).code === 'EEXIST';
      throw new WalauditError('CONFIG_INVALID', exists ? `${file} exists: a signing key is never overwritten (old checkpoints need its verifier key); choose another --out` : `cannot create ${file}: ${(error as Error).message}`, { cause: error });
    }
    try {
      writeSync(fd, `${signer.secretText}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    process.stderr.write(`signing key written to ${file} (mode 0600); keep a copy of the verifier key below with whoever checks the log\n`);
  }
  out(signer.text);
  return 0;
}

/** Prints the verifier key of the configured signing key. */
export function keysShowCommand(config: WalauditConfig, out: (line: string) => void): number {
  const signer = loadSigningKey(config);
  if (!signer) throw new WalauditError('CONFIG_INVALID', 'no signing key is configured: set checkpoints.keyFile or WALAUDIT_SIGNING_KEY');
  out(signer.text);
  return 0;
}

/** `walaudit keys generate`, `keys show`, and the proofs: `prove`, `prove-consistency`, `verify-proof`. */
export function registerEvidenceCommands(program: Command, cli: CliParts): void {
  const keyList = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];
  cli
    .withCommonOptions(program.command('prove'))
    .argument('<entryId>', 'the entry (an id from walaudit log)')
    .description('print the entry, its Merkle inclusion proof and the signed checkpoint of its chain as JSON, for verify-proof (reads the store itself)')
    .option('--checkpoints <file>', 'checkpoint file (default: checkpoints.file)')
    .action((entryId: string, flags: CommonFlags & { checkpoints?: string }) => cli.run(() => proveCommand(loadConfig(flags), entryId, flags, cli.out)));
  cli
    .withCommonOptions(program.command('prove-consistency'))
    .description('print a Merkle consistency proof that a chain\'s newest checkpoint extends an older one unchanged, as JSON')
    .requiredOption('--chain <chain>', 'p<partition>/r<retention days>, e.g. p0/r90')
    .option('--from <size>', 'the older checkpoint by its size (default: the oldest in the file)')
    .option('--checkpoints <file>', 'checkpoint file (default: checkpoints.file)')
    .action((flags: CommonFlags & { chain: string; from?: string; checkpoints?: string }) => cli.run(() => proveConsistencyCommand(loadConfig(flags), flags, cli.out)));
  program
    .command('verify-proof')
    .argument('<file>', 'a proof from walaudit prove or prove-consistency (- for stdin)')
    .description('check a proof offline, with no store: the checkpoint signature, the entry, the Merkle proof; exit 1 when it fails')
    .option('--key <key>', 'verifier key (walaudit keys generate printed it), or a file of them; repeat for several', keyList)
    .action((file: string, flags: { key?: string[] }) => cli.run(async () => verifyProofCommand(file, flags, cli.out)));

  const keys = program.command('keys').description('the Ed25519 key that signs checkpoints');
  cli
    .withCommonOptions(keys.command('generate'))
    .description('write a new checkpoint signing key (mode 0600) and print its verifier key, which verify --key takes')
    .option('--out <file>', 'where the key goes (default: checkpoints.keyFile); an existing file is never overwritten')
    .option('--name <name>', 'key name, also the start of each checkpoint origin (a schema-less URL, e.g. audit.example.com/shop)')
    .option('--print-secret', 'print the signing key on stdout instead of writing a file (for WALAUDIT_SIGNING_KEY), then the verifier key')
    .action((flags: CommonFlags & KeysGenerateFlags) => cli.run(async () => keysGenerateCommand(loadConfig(flags), flags, cli.out)));
  cli
    .withCommonOptions(keys.command('show'))
    .description('print the verifier key of the configured signing key')
    .action((flags: CommonFlags) => cli.run(async () => keysShowCommand(loadConfig(flags), cli.out)));
}
