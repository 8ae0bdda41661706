import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import './provided-context.js';

/** Superuser URL of the run's shared local Postgres. */
export function serverUrl(): string {
  return inject('pgUrl');
}

/**
 * A name no other test uses: slots and roles are cluster-wide, so even tests in their own database
 * must not share them. Lower-case letters, digits and _ (valid for slots), at most 63 characters.
 */
export function uniqueName(prefix: string): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 40);
  return `${clean}_${randomBytes(6).toString('hex')}`;
}

/** The same server URL with another database, user or application_name. */
export function withUrl(url: string, change: { database?: string; user?: string; applicationName?: string }): string {
  const parsed = new URL(url);
  if (change.database) parsed.pathname = `/${change.database}`;
  if (change.user) parsed.username = change.user;
  if (change.applicationName) parsed.searchParams.set('application_name', change.applicationName);
  return parsed.toString();
}

export async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Runs SQL as the superuser on the given database URL and returns the rows. */
export async function query<R extends pg.QueryResultRow = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<R[]> {
  const client = await connect(url);
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  url: string;
  name: string;
  /** Drops the database, and first the replication slots on it (they would block DROP DATABASE). */
  drop(): Promise<void>;
}

/** A fresh, empty database on the shared server, so each test starts from nothing. */
export async function createTestDatabase(prefix = 'test', adminUrl = serverUrl()): Promise<TestDatabase> {
  const name = uniqueName(prefix);
  await query(adminUrl, `CREATE DATABASE ${name}`);
  return {
    name,
    url: withUrl(adminUrl, { database: name }),
    async drop() {
      await query(adminUrl, `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = $1 AND active_pid IS NOT NULL`, [name]);
      await query(adminUrl, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1`, [name]);
      await query(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
