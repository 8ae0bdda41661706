import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalPostgres, type LocalPostgres } from '@walaudit/pg';
import { query } from '../support/postgres.js';

const execFileAsync = promisify(execFile);
let server: LocalPostgres | undefined;
let dir: string | undefined;
afterEach(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  server = dir = undefined;
});

describe('startLocalPostgres', () => {
  it('serves a logical-decoding cluster that psqlCommand reaches, and removes its temp dir on stop', async () => {
    server = await startLocalPostgres({ durable: false });
    expect(server.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/postgres`);
    const [settings] = await query<{ wal_level: string; slots: string; fsync: string }>(
      server.url,
      `SELECT current_setting('wal_level') AS wal_level, current_setting('max_replication_slots') AS slots, current_setting('fsync') AS fsync`,
    );
    expect(settings).toEqual({ wal_level: 'logical', slots: '20', fsync: 'off' });
    const [command, ...args] = server.psqlCommand.split(' ');
    const { stdout } = await execFileAsync(command!, [...args, '-Atc', 'SELECT 42']);
    expect(stdout.trim()).toBe('42');
    const dataDir = server.dataDir;
    await server.stop();
    await server.stop(); // idempotent
    expect(existsSync(dataDir)).toBe(false);
  });

  it('keeps a given baseDir and reuses its cluster on the next start', async () => {
    dir = await mkdtemp(join(tmpdir(), 'walaudit-keep-'));
    server = await startLocalPostgres({ baseDir: dir });
    await query(server.url, 'CREATE TABLE kept (id int); INSERT INTO kept VALUES (7)');
    expect((await query(server.url, `SELECT current_setting('fsync') AS fsync`))[0]).toEqual({ fsync: 'on' });
    await server.stop();
    server = await startLocalPostgres({ baseDir: dir });
    expect(await query(server.url, 'SELECT id FROM kept')).toEqual([{ id: 7 }]);
  });
});
