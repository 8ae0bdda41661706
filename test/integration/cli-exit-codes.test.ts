import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, query, type TestDatabase } from '../support/postgres.js';
import { CLI } from '../support/walaudit-process.js';
import { tempDir } from '../support/temp-dir.js';
import { findFreePort } from '@walaudit/pg';
import { openClickHouseStores } from '@walaudit/clickhouse';

const walaudit = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });

/** A script reads exit 1 as "the chain is broken": a typo must never look like that. */
describe('walaudit exit codes', () => {
  it.each([
    ['an unknown flag', ['log', '--no-such-flag'], /unknown option '--no-such-flag'/],
    ['an unknown command', ['no-such-command'], /unknown command 'no-such-command'/],
    ['a value outside the choices', ['log', '--op', 'drop'], /argument 'drop' is invalid/],
    ['a missing option value', ['log', '--limit'], /argument missing/],
    ['a URL with a bad port, its password hidden', ['status', '--source', 'postgres://u:hunter2@127.0.0.1:99999/db'], /CONFIG_INVALID[^]*"source.url": "postgres:\/\/u:\*\*\*@127.0.0.1:99999\/db": port 99999 is out of range/],
  ])('%s exits 2 and says what was wrong', (_what, args, message) => {
    const run = walaudit(...args);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(run.stderr).not.toContain('hunter2');
  });

  it('--help and --version exit 0, and the help names the exit codes', () => {
    const help = walaudit('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/Exit codes: 0 ok; 1 the audit log failed verification or a restore was refused; 2 a usage or runtime error/);
    expect(walaudit('verify', '--help').status).toBe(0);
    expect(walaudit('--version').status).toBe(0);
  });
});

describe('a reader that closes the pipe early', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('cli_pipe');
    await query(db.url, 'CREATE TABLE t1 (id int PRIMARY KEY); CREATE TABLE t2 (id int PRIMARY KEY)');
  });
  afterAll(async () => db?.drop());

  it('ends the output quietly: no EPIPE stack trace, the exit code is the command\'s own', async () => {
    // Closed before the command writes its first line (it connects to Postgres first): every write meets EPIPE.
    const child = spawn(process.execPath, [CLI, 'setup', '--dry-run', '--source', db.url], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});

describe('read commands without a running walaudit', () => {
  it('never create a store: a wrong data directory is an error that says what was looked for', async () => {
    const dataDir = join(tempDir('no-store'), 'data');
    const run = walaudit('log', '--data-dir', dataDir, '--http-port', String(await findFreePort()));
    expect(run.stderr).toMatch(/STORE_NOT_FOUND: no walaudit start answers on port \d+, and there is no walaudit store in embedded ClickHouse \(chDB\) in .*no-store.*\/data/);
    expect(run.status).toBe(2);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('verify on an empty store says nothing was verified and exits 2, unless an empty log is expected', async () => {
    const dataDir = tempDir('verify-empty');
    const stores = await openClickHouseStores({ dataDir, database: 'walaudit' });
    await stores.close();
    const common = ['--data-dir', dataDir, '--http-port', String(await findFreePort())];
    const empty = walaudit('verify', ...common);
    expect(empty.stderr).toMatch(/LOG_EMPTY: the audit log holds no entries, so nothing was verified/);
    expect(empty.stdout).not.toMatch(/intact/);
    expect(empty.status).toBe(2);
    const allowed = walaudit('verify', '--allow-empty', ...common);
    expect(allowed.stdout).toMatch(/audit log empty: nothing to verify/);
    expect(allowed.status).toBe(0);
  });
});
