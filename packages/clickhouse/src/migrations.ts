import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import { WalauditError } from '@walaudit/core';
import { splitStatements } from './sql-statements.js';

/** schemas/clickhouse at the repository root: the same depth from src/ and dist/. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../schemas/clickhouse/', import.meta.url));

/** `0001_audit_log.sql`: the number orders and identifies the migration. */
const FILE_NAME = /^(\d+)_([\w-]+)\.sql$/;

export interface Migration {
  version: number;
  name: string;
  /** With `{database}` still in place. */
  sql: string;
}

export async function loadMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  let files: string[];
  try {
    files = await readdir(dir);
  } catch (error) {
    throw new WalauditError('INTERNAL', `cannot read the ClickHouse migrations in ${dir}: ${(error as Error).message}`, { cause: error });
  }
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_NAME.exec(file);
    if (!match) continue;
    migrations.push({ version: Number(match[1]), name: match[2]!, sql: await readFile(join(dir, file), 'utf8') });
  }
  migrations.sort((a, b) => a.version - b.version);
  const clash = migrations.find((migration, i) => i > 0 && migrations[i - 1]!.version === migration.version);
  if (clash) throw new WalauditError('INTERNAL', `two ClickHouse migrations in ${dir} have version ${clash.version}`);
  return migrations;
}

/**
 * Applies, in order, the migrations not yet recorded in `schema_migrations`. Each statement is
 * idempotent (IF NOT EXISTS), so a crash between applying and recording, or two writers migrating
 * at once, only repeats harmless work. `name` is a validated database name (letters, digits, _).
 */
export async function applyMigrations(client: ClickHouseClient, name: string, dir?: string): Promise<number[]> {
  const migrations = await loadMigrations(dir);
  const database = `\`${name}\``;
  // Only when missing: a DBA may pre-create the database for a user without CREATE DATABASE.
  const existing = await client.query({
    query: 'SELECT name FROM system.databases WHERE name = {name:String}',
    query_params: { name },
    format: 'JSONEachRow',
  });
  if ((await existing.json()).length === 0) await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS ${database}.schema_migrations (
      version UInt32 COMMENT 'Number of the applied file in schemas/clickhouse (0001_audit_log.sql is 1)',
      name String COMMENT 'Rest of the file name',
      applied_at DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'When walaudit applied it, UTC'
    ) ENGINE = ReplacingMergeTree ORDER BY version
    COMMENT 'walaudit DDL migrations applied to this database'`,
  });
  const result = await client.query({ query: `SELECT DISTINCT version FROM ${database}.schema_migrations`, format: 'JSONEachRow' });
  const applied = new Set((await result.json<{ version: number | string }>()).map((row) => Number(row.version)));
  const appliedNow: number[] = [];
  for (const migration of migrations) {
    if (applied.has(migration.version)) continue;
    for (const statement of splitStatements(migration.sql)) {
      await client.command({ query: statement.replaceAll('{database}', database) });
    }
    await client.insert({
      table: `${database}.schema_migrations`,
      values: [{ version: migration.version, name: migration.name }],
      format: 'JSONEachRow',
    });
    appliedNow.push(migration.version);
  }
  return appliedNow;
}
