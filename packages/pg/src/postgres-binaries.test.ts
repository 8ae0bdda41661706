import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findPostgresBinDir } from './postgres-binaries.js';

let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

function fakeInstall(major: string, binaries = ['initdb', 'pg_ctl']): void {
  mkdirSync(join(root, major, 'bin'), { recursive: true });
  for (const name of binaries) writeFileSync(join(root, major, 'bin', name), '');
}

describe('findPostgresBinDir', () => {
  it('picks the newest major version that has initdb and pg_ctl', () => {
    root = mkdtempSync(join(tmpdir(), 'pgbin-'));
    fakeInstall('9.6');
    fakeInstall('15');
    fakeInstall('16');
    fakeInstall('17', ['pg_ctl']); // client-only install: no initdb
    expect(findPostgresBinDir(root)).toBe(join(root, '16', 'bin'));
  });

  it('says how to install Postgres when there is none', () => {
    root = mkdtempSync(join(tmpdir(), 'pgbin-'));
    expect(() => findPostgresBinDir(join(root, 'missing'))).toThrow(expect.objectContaining({
      code: 'PG_UNREACHABLE',
      message: expect.stringContaining('apt-get install postgresql'),
    }));
  });
});
